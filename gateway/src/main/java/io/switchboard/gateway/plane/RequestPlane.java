package io.switchboard.gateway.plane;

import io.switchboard.gateway.registry.WorkerState;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.vertx.core.Future;

/** How a gateway reaches workers: opens generation streams to them. */
public interface RequestPlane {

  /** Name shown in /admin/cluster and accepted by gateway.requestPlane: "eventbus" or "grpc". */
  String name();

  /** Where workers send this gateway's chunks on the event bus; empty for planes that stream on the call. */
  default String replyAddress() {
    return "";
  }

  Future<Void> start();

  /**
   * Offers {@code request} to {@code worker}. Succeeds once the worker accepted it (the stream then delivers
   * chunks); fails with {@link WorkerRefusedException} when the worker refused or could not be reached.
   */
  Future<ChunkStream> open(WorkerState worker, GenerateRequest request);

  /**
   * A {@link GenerateError.Code#TOO_LARGE} error when {@code request} is larger than the planes carry to a worker
   * (checked before any worker is chosen: no worker is at fault), else null. {@code rawBodyBytes} is the body's size
   * as the client sent it.
   */
  GenerateError tooLarge(GenerateRequest request, long rawBodyBytes);

  /** The worker stopped answering: every open stream to it ends with an error now. */
  void workerGone(String workerId, String reason);

  /** The node left the cluster: every open stream to a worker on it ends with an error now. */
  void nodeGone(String nodeId, String reason);

  /** Open streams now (for admin and metrics). */
  int openStreams();

  Future<Void> stop();
}
