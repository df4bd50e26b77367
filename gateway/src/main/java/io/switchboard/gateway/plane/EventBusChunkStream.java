package io.switchboard.gateway.plane;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.StreamChunk;

import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * One stream over the event bus, gateway side. Chunks arrive on the plane's shared consumer and are queued
 * here; the queue is bounded by the credits granted to the worker, which are renewed only as the handler
 * takes chunks while not paused. Used only on the gateway verticle's event loop.
 */
final class EventBusChunkStream implements ChunkStream {

  private final EventBusRequestPlane plane;
  private final String workerId;
  private final String nodeId;
  private final String streamId;
  private final int window;
  private final ArrayDeque<StreamChunk> queue = new ArrayDeque<>();
  private Consumer<StreamChunk> handler;
  private boolean paused;
  private boolean finished;
  private boolean delivering;
  private long expectedSeq;
  private int takenSinceGrant;
  long lastMessageNanos = System.nanoTime();
  final long deadlineNanos;

  EventBusChunkStream(EventBusRequestPlane plane, String workerId, String nodeId, String streamId, int window,
                      long deadlineNanos) {
    this.plane = plane;
    this.workerId = workerId;
    this.nodeId = nodeId;
    this.streamId = streamId;
    this.window = window;
    this.deadlineNanos = deadlineNanos;
  }

  @Override
  public String workerId() {
    return workerId;
  }

  String streamId() {
    return streamId;
  }

  String nodeId() {
    return nodeId;
  }

  @Override
  public ChunkStream handler(Consumer<StreamChunk> handler) {
    this.handler = handler;
    deliver();
    return this;
  }

  @Override
  public ChunkStream pause() {
    paused = true;
    return this;
  }

  @Override
  public ChunkStream resume() {
    paused = false;
    deliver();
    return this;
  }

  @Override
  public void cancel(String reason) {
    if (finished) {
      return;
    }
    finished = true;
    queue.clear();
    plane.forget(streamId);
    plane.sendCancel(workerId, streamId, reason);
  }

  /** A message from the worker. */
  void onChunk(StreamChunk chunk) {
    if (finished) {
      return;
    }
    lastMessageNanos = System.nanoTime();
    if (chunk.seq() != expectedSeq) {
      failLocally(GenerateError.of(GenerateError.Code.ENGINE_FAILED, "stream from worker " + workerId
          + " lost chunks (expected #" + expectedSeq + ", got #" + chunk.seq() + ")", workerId));
      plane.sendCancel(workerId, streamId, "gateway detected lost chunks");
      return;
    }
    expectedSeq++;
    enqueue(chunk);
  }

  /** Ends the stream with an error raised on this side (worker gone, timeout). */
  void failLocally(GenerateError error) {
    if (finished) {
      return;
    }
    enqueue(StreamChunk.failure(expectedSeq, error));
  }

  private void enqueue(StreamChunk chunk) {
    if (chunk.isLast()) {
      // Nothing more will come: stop listening now, deliver what is queued at the client's pace.
      finished = true;
      plane.forget(streamId);
    }
    queue.addLast(chunk);
    deliver();
  }

  private void deliver() {
    if (delivering) {
      return;
    }
    delivering = true;
    try {
      while (!paused && handler != null && !queue.isEmpty()) {
        StreamChunk chunk = queue.pollFirst();
        handler.accept(chunk);
        if (!chunk.isLast()) {
          takenSinceGrant++;
        }
      }
    } finally {
      delivering = false;
    }
    if (!finished && !paused && takenSinceGrant >= window / 2) {
      plane.sendCredits(workerId, streamId, takenSinceGrant);
      takenSinceGrant = 0;
    }
  }
}
