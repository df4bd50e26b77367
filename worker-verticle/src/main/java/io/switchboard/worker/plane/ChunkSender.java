package io.switchboard.worker.plane;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.StreamChunk;
import io.switchboard.protocol.Usage;
import io.switchboard.worker.engine.ChunkSink;
import io.vertx.core.json.JsonObject;

/**
 * The worker end of one stream, on every plane: numbers the chunks an engine writes and hands each to the stream's
 * {@link ChunkChannel}, whose flow control the engine waits on, so a slow client stalls the engine instead of filling
 * a buffer. Used only on the worker's context.
 */
final class ChunkSender implements ChunkSink {

  private final ChunkChannel channel;
  private long seq;

  ChunkSender(ChunkChannel channel) {
    this.channel = channel;
  }

  @Override
  public void write(String text, int tokens, JsonObject extra) {
    channel.send(StreamChunk.delta(seq++, text, tokens, extra));
  }

  @Override
  public void end(String text, int tokens, String finishReason, Usage usage, JsonObject extra) {
    channel.send(StreamChunk.last(seq++, text, tokens, finishReason, usage, extra));
  }

  @Override
  public void fail(GenerateError error) {
    channel.send(StreamChunk.failure(seq++, error));
  }

  @Override
  public boolean writeQueueFull() {
    return channel.full();
  }

  @Override
  public void drainHandler(Runnable handler) {
    channel.drainHandler(handler);
  }
}
