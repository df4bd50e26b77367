package io.switchboard.worker.plane;

import io.switchboard.protocol.SameNodeWorkers;
import io.switchboard.protocol.StreamChunk;
import io.vertx.core.Context;

/** The worker end of one stream to a gateway on this node: each chunk is handed to it on its own context. */
final class SameNodeChunkSender extends CreditedChunkSender {

  private final Context gatewayContext;
  private final SameNodeWorkers.Stream gateway;

  SameNodeChunkSender(Context gatewayContext, SameNodeWorkers.Stream gateway, int initialCredits) {
    super(initialCredits);
    this.gatewayContext = gatewayContext;
    this.gateway = gateway;
  }

  @Override
  void send(StreamChunk chunk) {
    gatewayContext.runOnContext(v -> gateway.chunk(chunk));
  }
}
