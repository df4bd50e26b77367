package io.switchboard.worker.plane;

import io.switchboard.protocol.GenerateError;
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
  private final DeliveryOptions delivery;
  private final String streamId;
  private long seq;
  private int credits;
  private Runnable drainHandler;

  /** @param delivery how chunks go: hand-over without a copy when the gateway is on this node */
  EventBusChunkSender(EventBus eventBus, String replyAddress, DeliveryOptions delivery, String streamId,
                      int initialCredits) {
    this.eventBus = eventBus;
    this.replyAddress = replyAddress;
    this.delivery = delivery;
    this.streamId = streamId;
    this.credits = initialCredits;
  }

  @Override
  public void write(String text, int tokens, JsonObject extra) {
    credits--;
    eventBus.send(replyAddress, StreamChunk.delta(seq++, text, tokens, extra).toJson(streamId), delivery);
  }

  @Override
  public void end(String text, int tokens, String finishReason, Usage usage, JsonObject extra) {
    eventBus.send(replyAddress, StreamChunk.last(seq++, text, tokens, finishReason, usage, extra)
        .toJson(streamId), delivery);
  }

  @Override
  public void fail(GenerateError error) {
    eventBus.send(replyAddress, StreamChunk.failure(seq++, error).toJson(streamId), delivery);
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
