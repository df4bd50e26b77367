package io.switchboard.gateway.plane;

import io.switchboard.protocol.StreamChunk;

import java.util.function.Consumer;

/**
 * The gateway end of one generation stream. Every outcome reaches the handler as a chunk: text, the final
 * chunk, or an error chunk (worker failure, worker gone, timeout), so a stream always ends and never hangs.
 * While paused, the worker is held back by flow control rather than buffered without bound.
 */
public interface ChunkStream {

  /** Receives the chunks in order, the last one {@link StreamChunk#isLast()}. */
  ChunkStream handler(Consumer<StreamChunk> handler);

  ChunkStream pause();

  ChunkStream resume();

  /** Stops the generation on the worker; no chunk is delivered afterwards. */
  void cancel(String reason);

  /** The worker serving this stream. */
  String workerId();
}
