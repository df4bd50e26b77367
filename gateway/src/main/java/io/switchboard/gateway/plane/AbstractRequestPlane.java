package io.switchboard.gateway.plane;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.PlaneMessageLimit;
import io.vertx.core.Vertx;

/**
 * What every plane does alike: cut open streams when their worker or node is gone, count them, and refuse a request
 * larger than the planes carry before it is sent (the same limit on both planes, so the client gets the same answer).
 */
abstract class AbstractRequestPlane implements RequestPlane {

  final StreamTable streams;
  final PlaneMessageLimit messageLimit;

  AbstractRequestPlane(Vertx vertx, PlaneTimeouts options, PlaneMessageLimit messageLimit) {
    this.streams = new StreamTable(vertx, options);
    this.messageLimit = messageLimit;
  }

  @Override
  public final void workerGone(String workerId, String reason) {
    streams.workerGone(workerId, reason);
  }

  @Override
  public final void nodeGone(String nodeId, String reason) {
    streams.nodeGone(nodeId, reason);
  }

  @Override
  public final int openStreams() {
    return streams.size();
  }

  @Override
  public final GenerateError tooLarge(GenerateRequest request, long rawBodyBytes) {
    long size = messageLimit.sizeIfTooLarge(request, rawBodyBytes);
    if (size == 0) {
      return null;
    }
    String what = request.resume().text().isEmpty() ? "its body and the prompt taken from it"
        : "its body, the prompt taken from it and the " + request.resume().text().length() + " characters generated "
            + "so far";
    return GenerateError.of(GenerateError.Code.TOO_LARGE, "The request is too large to send to a worker: "
        + what + " take " + size + " bytes between nodes, more than the " + messageLimit.maxBytes() + " bytes the "
        + "request planes carry (grpc.maxMessageBytes). Send a smaller request; an operator can raise "
        + "grpc.maxMessageBytes on every node", null);
  }
}
