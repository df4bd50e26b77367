package io.switchboard.gateway.plane;

import io.switchboard.protocol.grpc.GenerateCall;
import io.switchboard.protocol.grpc.GenerateEvent;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.GrpcClientResponse;

/**
 * How one gRPC stream reaches its worker: the call itself. While the consumer has no demand the call's response is
 * paused, so HTTP/2 flow control holds the worker back; cancelling the call (RST_STREAM) stops the generation.
 */
final class GrpcLink implements WorkerLink {

  private GrpcClientRequest<GenerateCall, GenerateEvent> call;
  private GrpcClientResponse<GenerateCall, GenerateEvent> response;
  private boolean paused;

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
  public void demand(int taken, boolean paused) {
    if (paused == this.paused) {
      return;
    }
    this.paused = paused;
    if (response != null) {
      if (paused) {
        response.pause();
      } else {
        response.resume();
      }
    }
  }

  @Override
  public void stop(String reason) {
    if (call != null) {
      call.cancel();
    }
  }
}
