package io.switchboard.gateway.plane;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.StreamChunk;
import io.vertx.core.Handler;

import java.util.ArrayDeque;

/**
 * One generation stream, gateway side, on every plane: checks that chunks arrive in sequence, queues them while the
 * consumer has no demand, always ends (a failure on this side becomes an error chunk), and tells the worker to stop
 * when cancelled. What differs per plane (how demand reaches the worker, how it is stopped) is its {@link WorkerLink}.
 *
 * <p>Demand is a Vert.x stream's: {@link #pause()} sets it to none, {@link #resume()} to unbounded,
 * {@link #fetch(long)} adds to it, and each chunk handled takes one. While there is none, the worker is waiting for
 * this side, so its silence is not held against it: the silence clock starts again when demand returns. Used only on
 * the gateway verticle's event loop.
 */
final class PlaneChunkStream implements ChunkStream {

  private final StreamTable table;
  private final WorkerLink link;
  private final String workerId;
  private final String nodeId;
  private final String streamId;
  private final ArrayDeque<StreamChunk> queue = new ArrayDeque<>();
  private Handler<StreamChunk> handler;
  private Handler<Void> endHandler;
  private Handler<Throwable> exceptionHandler;
  private long demand = Long.MAX_VALUE;
  private boolean finished;
  private boolean delivering;
  private long expectedSeq;
  final long deadlineNanos;
  long lastMessageNanos = System.nanoTime();

  PlaneChunkStream(StreamTable table, WorkerLink link, String workerId, String nodeId, String streamId,
                   long deadlineNanos) {
    this.table = table;
    this.link = link;
    this.workerId = workerId;
    this.nodeId = nodeId;
    this.streamId = streamId;
    this.deadlineNanos = deadlineNanos;
  }

  @Override
  public String workerId() {
    return workerId;
  }

  String nodeId() {
    return nodeId;
  }

  String streamId() {
    return streamId;
  }

  /** Whether the worker has nothing more to send: the last chunk came, or the stream failed or was cancelled. */
  boolean isFinished() {
    return finished;
  }

  /** Whether the consumer holds the worker back now (then the worker sends nothing, and may not). */
  boolean heldBack() {
    return demand == 0;
  }

  @Override
  public ChunkStream handler(Handler<StreamChunk> handler) {
    this.handler = handler;
    deliver();
    return this;
  }

  @Override
  public ChunkStream endHandler(Handler<Void> endHandler) {
    this.endHandler = endHandler;
    return this;
  }

  @Override
  public ChunkStream exceptionHandler(Handler<Throwable> handler) {
    this.exceptionHandler = handler;
    return this;
  }

  @Override
  public ChunkStream pause() {
    if (demand != 0) {
      demand = 0;
      link.demand(0, true);
    }
    return this;
  }

  @Override
  public ChunkStream resume() {
    return fetch(Long.MAX_VALUE);
  }

  @Override
  public ChunkStream fetch(long amount) {
    if (amount < 0) {
      throw new IllegalArgumentException("a stream's demand cannot grow by a negative amount: " + amount);
    }
    if (amount == 0) {
      return this;
    }
    if (demand == 0) {
      // The worker was waiting for us: it is silent from now on only if it sends nothing.
      lastMessageNanos = System.nanoTime();
    }
    demand = demand > Long.MAX_VALUE - amount ? Long.MAX_VALUE : demand + amount;
    deliver();
    return this;
  }

  @Override
  public void cancel(String reason) {
    if (finished) {
      queue.clear();
      return;
    }
    finished = true;
    queue.clear();
    table.forget(streamId);
    link.stop(reason);
  }

  /** Tells the worker to stop generating without ending the stream here (that is {@link #failLocally}'s). */
  void stopWorker(String reason) {
    link.stop(reason);
  }

  /** A chunk from the worker. */
  void onChunk(StreamChunk chunk) {
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
  void onUnreadableChunk(String reason) {
    if (!finished) {
      lostChunk("sent a chunk this gateway cannot read (" + reason + ")", "gateway could not read a chunk");
    }
  }

  /** A chunk of the worker's did not arrive whole: the stream fails with what the worker did, and the worker stops. */
  private void lostChunk(String whatTheWorkerDid, String stopReason) {
    failLocally(GenerateError.of(GenerateError.Code.ENGINE_FAILED, "stream from worker " + workerId + " "
        + whatTheWorkerDid, workerId));
    link.stop(stopReason);
  }

  /** Ends the stream with an error raised on this side (worker gone, timeout, connection lost). */
  void failLocally(GenerateError error) {
    if (finished) {
      return;
    }
    enqueue(StreamChunk.failure(expectedSeq, error));
  }

  private void enqueue(StreamChunk chunk) {
    if (chunk.isLast()) {
      // Nothing more will come: stop listening now, deliver what is queued at the consumer's pace.
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
      while (demand > 0 && handler != null && !queue.isEmpty()) {
        StreamChunk chunk = queue.pollFirst();
        if (demand != Long.MAX_VALUE) {
          demand--;
        }
        handle(chunk);
        if (chunk.isLast()) {
          Handler<Void> end = endHandler;
          if (end != null) {
            end.handle(null);
          }
        } else {
          taken++;
        }
      }
    } finally {
      delivering = false;
    }
    // Counted even when taking the last of them left no demand: a chunk taken is taken, and a worker that is never
    // credited for it stops for good once a slow consumer has paused a window's worth of times.
    boolean paused = demand == 0;
    if (!finished && (taken > 0 || !paused)) {
      link.demand(taken, paused);
    }
  }

  private void handle(StreamChunk chunk) {
    try {
      handler.handle(chunk);
    } catch (RuntimeException thrown) {
      Handler<Throwable> onThrown = exceptionHandler;
      if (onThrown == null) {
        throw thrown;
      }
      onThrown.handle(thrown);
    }
  }
}
