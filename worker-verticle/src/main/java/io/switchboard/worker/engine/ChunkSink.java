package io.switchboard.worker.engine;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.Usage;

/**
 * Where an engine writes a generation. Shaped like a Vert.x {@code WriteStream}: an engine writes while
 * {@link #writeQueueFull()} is false and otherwise waits for the {@link #drainHandler(Runnable)}; that is how a
 * slow client, many hops away, slows the engine down instead of filling memory.
 */
public interface ChunkSink {

  /** A text delta holding {@code tokens} completion tokens. */
  void write(String text, int tokens);

  /** The last chunk: remaining text, the finish reason ("stop" or "length") and the final usage. */
  void end(String text, int tokens, String finishReason, Usage usage);

  /** Ends the stream with an error; nothing may be written after. */
  void fail(GenerateError error);

  boolean writeQueueFull();

  /** Called once when the sink can take more after {@link #writeQueueFull()} returned true. */
  void drainHandler(Runnable handler);
}
