package io.switchboard.worker.engine;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.Usage;
import io.vertx.core.json.JsonObject;

/**
 * Where an engine writes a generation. Shaped like a Vert.x {@code WriteStream}: an engine writes while
 * {@link #writeQueueFull()} is false and otherwise waits for the {@link #drainHandler(Runnable)}; that is how a
 * slow client, many hops away, slows the engine down instead of filling memory.
 */
public interface ChunkSink {

  /**
   * A text delta holding {@code tokens} completion tokens, and what the backend sent beside it for the client
   * (see {@link io.switchboard.protocol.StreamChunk#extra()}; null when nothing).
   */
  void write(String text, int tokens, JsonObject extra);

  default void write(String text, int tokens) {
    write(text, tokens, null);
  }

  /**
   * The last chunk: remaining text, the finish reason ("stop", "length", "tool_calls", ...), the final usage and
   * what the backend sent beside it (an embeddings answer comes whole here).
   */
  void end(String text, int tokens, String finishReason, Usage usage, JsonObject extra);

  default void end(String text, int tokens, String finishReason, Usage usage) {
    end(text, tokens, finishReason, usage, null);
  }

  /** Ends the stream with an error; nothing may be written after. */
  void fail(GenerateError error);

  boolean writeQueueFull();

  /** Called once when the sink can take more after {@link #writeQueueFull()} returned true. */
  void drainHandler(Runnable handler);
}
