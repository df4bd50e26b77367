package io.switchboard.gateway.plane;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.SameNodeWorkers;
import io.switchboard.protocol.StreamChunk;
import io.vertx.core.Future;
import io.vertx.core.Promise;

/**
 * One stream to a worker on this node, called directly ({@link SameNodeWorkers}), gateway side. The worker
 * calls {@link #accepted()}, {@link #refused} and {@link #chunk} on the gateway's context. With no event-bus
 * send timeout, the plane's sweep refuses it if the worker has not answered within the accept timeout.
 */
final class SameNodeChunkStream extends CreditedChunkStream implements SameNodeWorkers.Stream {

  private final SameNodeWorkers.Worker worker;
  private final StreamTable table;
  private final Promise<ChunkStream> acceptance = Promise.promise();
  private final long openedNanos = System.nanoTime();

  SameNodeChunkStream(SameNodeWorkers.Worker worker, StreamTable table, String workerId, String nodeId,
                      String streamId, int window, long deadlineNanos) {
    super(table, workerId, nodeId, streamId, window, deadlineNanos);
    this.worker = worker;
    this.table = table;
  }

  /** Succeeds with this stream once the worker accepted; fails with {@link WorkerRefusedException}. */
  Future<ChunkStream> acceptance() {
    return acceptance.future();
  }

  @Override
  public void accepted() {
    acceptance.tryComplete(this);
  }

  @Override
  public void refused(GenerateError why) {
    table.forget(streamId());
    acceptance.tryFail(new WorkerRefusedException(why));
  }

  @Override
  public void chunk(StreamChunk chunk) {
    onChunk(chunk);
  }

  @Override
  boolean refusedForSilence(long nowNanos, long acceptTimeoutMs) {
    if (acceptance.future().isComplete() || nowNanos - openedNanos < acceptTimeoutMs * 1_000_000) {
      return false;
    }
    refused(GenerateError.of(GenerateError.Code.WORKER_BUSY, "worker " + workerId() + " on this node did not "
        + "accept the request within " + acceptTimeoutMs + " ms", workerId()));
    // It may accept late: it must not generate for a request that went elsewhere.
    stopWorker("acceptance timed out; sent to another worker");
    return true;
  }

  @Override
  void stopWorker(String reason) {
    worker.cancel(streamId(), reason);
  }

  @Override
  void grant(int credits) {
    worker.grant(streamId(), credits);
  }
}
