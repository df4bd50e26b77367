package io.switchboard.worker.plane;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.StreamChunk;
import io.switchboard.protocol.Usage;
import io.switchboard.worker.engine.ChunkSink;
import io.vertx.core.json.JsonObject;

/**
 * The worker end of one stream to a gateway that grants credits: numbers the chunks and never sends more text
 * chunks than the gateway has granted room for, so a slow client stalls the engine instead of filling a buffer.
 * The final chunk (or error) may exceed the credits by one: it carries no text the client must buffer. A
 * subclass says how a chunk travels. Used only on the worker's context.
 */
abstract class CreditedChunkSender implements ChunkSink {

  private long seq;
  private int credits;
  private Runnable drainHandler;

  CreditedChunkSender(int initialCredits) {
    this.credits = initialCredits;
  }

  /** Sends one chunk to the gateway. */
  abstract void send(StreamChunk chunk);

  @Override
  public final void write(String text, int tokens, JsonObject extra) {
    credits--;
    send(StreamChunk.delta(seq++, text, tokens, extra));
  }

  @Override
  public final void end(String text, int tokens, String finishReason, Usage usage, JsonObject extra) {
    send(StreamChunk.last(seq++, text, tokens, finishReason, usage, extra));
  }

  @Override
  public final void fail(GenerateError error) {
    send(StreamChunk.failure(seq++, error));
  }

  @Override
  public final boolean writeQueueFull() {
    return credits <= 0;
  }

  @Override
  public final void drainHandler(Runnable handler) {
    this.drainHandler = handler;
  }

  /** The gateway consumed chunks and grants room for more. */
  final void grant(int more) {
    credits += more;
    Runnable handler = drainHandler;
    if (handler != null && credits > 0) {
      drainHandler = null;
      handler.run();
    }
  }
}
