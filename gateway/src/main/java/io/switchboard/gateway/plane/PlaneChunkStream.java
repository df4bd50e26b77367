package io.switchboard.gateway.plane;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.StreamChunk;

import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * What every plane's stream does alike, gateway side: checks that chunks arrive in sequence, queues them while
 * the consumer is paused, always ends (a failure on this side becomes an error chunk), and tells the worker to
 * stop when cancelled. A plane supplies how to stop the worker and how to hold it back while paused. While
 * paused, the worker is waiting for this side, so its silence is not held against it: the silence clock starts
 * again on resume. Used only on the gateway verticle's event loop.
 */
abstract class PlaneChunkStream implements ChunkStream {

  private final StreamTable table;
  private final String workerId;
  private final String nodeId;
  private final String streamId;
  private final ArrayDeque<StreamChunk> queue = new ArrayDeque<>();
  private Consumer<StreamChunk> handler;
  private boolean paused;
  private boolean finished;
  private boolean delivering;
  private long expectedSeq;
  final long deadlineNanos;
  long lastMessageNanos = System.nanoTime();

  PlaneChunkStream(StreamTable table, String workerId, String nodeId, String streamId, long deadlineNanos) {
    this.table = table;
    this.workerId = workerId;
    this.nodeId = nodeId;
    this.streamId = streamId;
    this.deadlineNanos = deadlineNanos;
  }

  /** Tells the worker to stop generating (best effort: it may be gone already). */
  abstract void stopWorker(String reason);

  /** The consumer paused or resumed: hold the worker back, or let it go on. */
  void holdBack(boolean paused) {
  }

  /**
   * The consumer took {@code chunks} more chunks (not counting the last), possibly pausing after the last of them;
   * may be 0 after a resume, when chunks taken before the pause may still need acknowledging. The window bounds
   * what can queue here while paused: a worker credited now sends at most a window more, which wait in the queue.
   */
  void delivered(int chunks) {
  }

  /**
   * Called by the sweep: true if the worker was offered the request and has not answered within the accept
   * timeout, and this stream has now been refused for it. Planes whose send has its own timeout say false.
   */
  boolean refusedForSilence(long nowNanos, long acceptTimeoutMs) {
    return false;
  }

  @Override
  public final String workerId() {
    return workerId;
  }

  final String nodeId() {
    return nodeId;
  }

  final String streamId() {
    return streamId;
  }

  final boolean isFinished() {
    return finished;
  }

  /** Whether the consumer holds the worker back now (then the worker sends nothing, and may not). */
  final boolean heldBack() {
    return paused;
  }

  @Override
  public final ChunkStream handler(Consumer<StreamChunk> handler) {
    this.handler = handler;
    deliver();
    return this;
  }

  @Override
  public final ChunkStream pause() {
    if (!paused) {
      paused = true;
      holdBack(true);
    }
    return this;
  }

  @Override
  public final ChunkStream resume() {
    if (paused) {
      paused = false;
      // The worker was waiting for us: it is silent from now on only if it sends nothing.
      lastMessageNanos = System.nanoTime();
      holdBack(false);
    }
    deliver();
    return this;
  }

  @Override
  public final void cancel(String reason) {
    if (finished) {
      return;
    }
    finished = true;
    queue.clear();
    table.forget(streamId);
    stopWorker(reason);
  }

  /** A chunk from the worker. */
  final void onChunk(StreamChunk chunk) {
    if (finished) {
      return;
    }
    lastMessageNanos = System.nanoTime();
    if (chunk.seq() != expectedSeq) {
      lostChunk("lost chunks (expected #" + expectedSeq + ", got #" + chunk.seq() + ")",
          "gateway detected lost chunks");
      return;
    }
    expectedSeq++;
    enqueue(chunk);
  }

  /** A message of this stream that could not be read: its chunk is lost, so the stream fails as on a gap. */
  final void onUnreadableChunk(String reason) {
    if (!finished) {
      lostChunk("sent a chunk this gateway cannot read (" + reason + ")", "gateway could not read a chunk");
    }
  }

  /** A chunk of the worker's did not arrive whole: the stream fails with what the worker did, and the worker stops. */
  private void lostChunk(String whatTheWorkerDid, String stopReason) {
    failLocally(GenerateError.of(GenerateError.Code.ENGINE_FAILED, "stream from worker " + workerId + " "
        + whatTheWorkerDid, workerId));
    stopWorker(stopReason);
  }

  /** Ends the stream with an error raised on this side (worker gone, timeout, connection lost). */
  final void failLocally(GenerateError error) {
    if (finished) {
      return;
    }
    enqueue(StreamChunk.failure(expectedSeq, error));
  }

  private void enqueue(StreamChunk chunk) {
    if (chunk.isLast()) {
      // Nothing more will come: stop listening now, deliver what is queued at the client's pace.
      finished = true;
      table.forget(streamId);
    }
    queue.addLast(chunk);
    deliver();
  }

  private void deliver() {
    if (delivering) {
      return;
    }
    delivering = true;
    int taken = 0;
    try {
      while (!paused && handler != null && !queue.isEmpty()) {
        StreamChunk chunk = queue.pollFirst();
        handler.accept(chunk);
        if (!chunk.isLast()) {
          taken++;
        }
      }
    } finally {
      delivering = false;
    }
    // Counted even when taking the last of them made the consumer pause: a chunk taken is taken, and a worker
    // that is never credited for it stops for good once a slow client has paused a window's worth of times.
    if (!finished && (taken > 0 || !paused)) {
      delivered(taken);
    }
  }
}
