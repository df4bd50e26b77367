package io.switchboard.gateway.plane;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.SameNodeWorkers;
import io.switchboard.protocol.StreamChunk;
import io.vertx.core.Future;
import io.vertx.core.Promise;

/**
 * How one stream reaches a worker on this node, called directly ({@link SameNodeWorkers}): credits and cancels are
 * calls on the worker, and the worker answers through this link ({@link #accepted()}, {@link #refused},
 * {@link #chunk}) on the gateway's context. With no send timeout of its own, the acceptance is timed by
 * {@link SameNodeRequestPlane}.
 */
final class SameNodeLink implements WorkerLink, SameNodeWorkers.Stream {

  private final SameNodeWorkers.Worker worker;
  private final StreamTable table;
  private final String workerId;
  private final String streamId;
  private final CreditWindow credits;
  private final Promise<ChunkStream> acceptance = Promise.promise();
  private final long openedNanos = System.nanoTime();
  private PlaneChunkStream stream;

  SameNodeLink(SameNodeWorkers.Worker worker, StreamTable table, String workerId, String streamId, int window) {
    this.worker = worker;
    this.table = table;
    this.workerId = workerId;
    this.streamId = streamId;
    this.credits = new CreditWindow(window);
  }

  /** The stream the worker's chunks go to; set before the request is offered. */
  void attach(PlaneChunkStream stream) {
    this.stream = stream;
  }

  /** Succeeds with the stream once the worker accepted; fails with {@link WorkerRefusedException}. */
  Future<ChunkStream> acceptance() {
    return acceptance.future();
  }

  /** Whether the worker has accepted or refused (or was refused for silence). */
  boolean answered() {
    return acceptance.future().isComplete();
  }

  /**
   * True if the worker has not answered within {@code acceptTimeoutMs} of the offer at {@code nowNanos}: the request
   * is then refused (the gateway may try another worker) and the worker told to stop, should it accept late.
   */
  boolean refusedForSilence(long nowNanos, long acceptTimeoutMs) {
    if (answered() || nowNanos - openedNanos < acceptTimeoutMs * 1_000_000) {
      return false;
    }
    refused(GenerateError.of(GenerateError.Code.WORKER_BUSY, "worker " + workerId + " on this node did not "
        + "accept the request within " + acceptTimeoutMs + " ms", workerId));
    // It may accept late: it must not generate for a request that went elsewhere.
    stop("acceptance timed out; sent to another worker");
    return true;
  }

  @Override
  public void accepted() {
    acceptance.tryComplete(stream);
  }

  @Override
  public void refused(GenerateError why) {
    table.forget(streamId);
    acceptance.tryFail(new WorkerRefusedException(why));
  }

  @Override
  public void chunk(StreamChunk chunk) {
    stream.onChunk(chunk);
  }

  @Override
  public void demand(int taken, boolean paused) {
    int grant = credits.taken(taken);
    if (grant > 0) {
      worker.grant(streamId, grant);
    }
  }

  @Override
  public void stop(String reason) {
    worker.cancel(streamId, reason);
  }
}
