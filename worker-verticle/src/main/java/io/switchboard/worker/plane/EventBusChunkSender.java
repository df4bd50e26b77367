package io.switchboard.worker.plane;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.LocalChunk;
import io.switchboard.protocol.LocalHandoffCodec;
import io.switchboard.protocol.StreamChunk;
import io.switchboard.protocol.Usage;
import io.switchboard.worker.engine.ChunkSink;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;

/**
 * The worker end of one event-bus stream: sends chunks to the gateway's reply address and never more than
 * the gateway has granted credits for, so a slow client stalls the engine instead of filling a buffer.
 * The final chunk (or error) may exceed the credits by one: it carries no text the client must buffer.
 */
final class EventBusChunkSender implements ChunkSink {

  private final EventBus eventBus;
  private final String replyAddress;
  private final boolean sameNode;
  private final DeliveryOptions delivery;
  private final String streamId;
  private long seq;
  private int credits;
  private Runnable drainHandler;

  /** @param sameNode whether the gateway is on this node: then chunks are handed over as objects, not JSON */
  EventBusChunkSender(EventBus eventBus, String replyAddress, boolean sameNode, String streamId,
                      int initialCredits) {
    this.eventBus = eventBus;
    this.replyAddress = replyAddress;
    this.sameNode = sameNode;
    this.delivery = sameNode ? LocalHandoffCodec.localDelivery() : new DeliveryOptions();
    this.streamId = streamId;
    this.credits = initialCredits;
  }

  @Override
  public void write(String text, int tokens, JsonObject extra) {
    credits--;
    send(StreamChunk.delta(seq++, text, tokens, extra));
  }

  @Override
  public void end(String text, int tokens, String finishReason, Usage usage, JsonObject extra) {
    send(StreamChunk.last(seq++, text, tokens, finishReason, usage, extra));
  }

  @Override
  public void fail(GenerateError error) {
    send(StreamChunk.failure(seq++, error));
  }

  private void send(StreamChunk chunk) {
    eventBus.send(replyAddress, sameNode ? new LocalChunk(streamId, chunk) : chunk.toJson(streamId), delivery);
  }

  @Override
  public boolean writeQueueFull() {
    return credits <= 0;
  }

  @Override
  public void drainHandler(Runnable handler) {
    this.drainHandler = handler;
  }

  /** The gateway consumed chunks and grants room for more. */
  void grant(int more) {
    credits += more;
    Runnable handler = drainHandler;
    if (handler != null && credits > 0) {
      drainHandler = null;
      handler.run();
    }
  }
}
