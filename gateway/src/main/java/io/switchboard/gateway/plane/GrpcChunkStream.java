package io.switchboard.gateway.plane;

import io.switchboard.protocol.grpc.GenerateCall;
import io.switchboard.protocol.grpc.GenerateEvent;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.GrpcClientResponse;

/**
 * One stream over gRPC, gateway side. Chunks arrive on the call itself; while the consumer is paused the call's
 * response is paused too, so HTTP/2 flow control holds the worker back. Cancelling the call (RST_STREAM) stops
 * the generation on the worker.
 */
final class GrpcChunkStream extends PlaneChunkStream {

  private GrpcClientRequest<GenerateCall, GenerateEvent> call;
  private GrpcClientResponse<GenerateCall, GenerateEvent> response;
  private boolean paused;

  GrpcChunkStream(StreamTable table, String workerId, String nodeId, String streamId, long deadlineNanos) {
    super(table, workerId, nodeId, streamId, deadlineNanos);
  }

  void attach(GrpcClientRequest<GenerateCall, GenerateEvent> call) {
    this.call = call;
  }

  void attach(GrpcClientResponse<GenerateCall, GenerateEvent> response) {
    this.response = response;
    if (paused) {
      response.pause();
    }
  }

  @Override
  void stopWorker(String reason) {
    if (call != null) {
      call.cancel();
    }
  }

  @Override
  void holdBack(boolean paused) {
    this.paused = paused;
    if (response != null) {
      if (paused) {
        response.pause();
      } else {
        response.resume();
      }
    }
  }
}
