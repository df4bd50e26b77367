package io.switchboard.worker.plane;

import io.switchboard.protocol.StreamChunk;
import io.switchboard.protocol.TaggedChunk;
import io.vertx.core.eventbus.EventBus;

/**
 * The worker end of one event-bus stream: each chunk goes to the gateway's reply address, in the format the request
 * came in: binary ({@link TaggedChunk}) to a gateway that sent the binary format, JSON to an older one.
 */
final class EventBusChunkSender extends CreditedChunkSender {

  private final EventBus eventBus;
  private final String replyAddress;
  private final String streamId;
  private final boolean binary;

  EventBusChunkSender(EventBus eventBus, String replyAddress, String streamId, int initialCredits, boolean binary) {
    super(initialCredits);
    this.eventBus = eventBus;
    this.replyAddress = replyAddress;
    this.streamId = streamId;
    this.binary = binary;
  }

  @Override
  void send(StreamChunk chunk) {
    eventBus.send(replyAddress, binary ? new TaggedChunk(streamId, chunk) : chunk.toJson(streamId));
  }
}
