package io.switchboard.worker.plane;

import io.switchboard.protocol.StreamChunk;
import io.vertx.core.eventbus.EventBus;

/** The worker end of one event-bus stream: each chunk goes, in its JSON form, to the gateway's reply address. */
final class EventBusChunkSender extends CreditedChunkSender {

  private final EventBus eventBus;
  private final String replyAddress;
  private final String streamId;

  EventBusChunkSender(EventBus eventBus, String replyAddress, String streamId, int initialCredits) {
    super(initialCredits);
    this.eventBus = eventBus;
    this.replyAddress = replyAddress;
    this.streamId = streamId;
  }

  @Override
  void send(StreamChunk chunk) {
    eventBus.send(replyAddress, chunk.toJson(streamId));
  }
}
