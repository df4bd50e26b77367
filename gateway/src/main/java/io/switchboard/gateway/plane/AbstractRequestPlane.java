package io.switchboard.gateway.plane;

import io.switchboard.gateway.GatewayOptions;
import io.vertx.core.Vertx;

/** What every plane does alike with its open streams: cut them when their worker or node is gone, count them. */
abstract class AbstractRequestPlane implements RequestPlane {

  final StreamTable streams;

  AbstractRequestPlane(Vertx vertx, GatewayOptions options) {
    this.streams = new StreamTable(vertx, options);
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
}
