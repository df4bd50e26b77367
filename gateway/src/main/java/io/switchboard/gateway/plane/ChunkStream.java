package io.switchboard.gateway.plane;

import io.switchboard.protocol.StreamChunk;
import io.vertx.core.Handler;
import io.vertx.core.streams.ReadStream;

/**
 * The gateway end of one generation stream, a Vert.x {@link ReadStream}: {@code pipeTo}, {@code pause},
 * {@code resume} and {@code fetch} work as on any other. Every outcome reaches the handler as a chunk: text, the
 * final chunk, or an error chunk (worker failure, worker gone, timeout), so a stream always ends and never hangs; the
 * end handler runs once the last chunk was handled. The worker sends only what the consumer asked for: while there
 * is no demand, it is held back by flow control (credits, or the HTTP/2 window) rather than buffered without bound.
 * The exception handler gets what the chunk handler threw.
 */
public interface ChunkStream extends ReadStream<StreamChunk> {

  /** Receives the chunks in order, the last one {@link StreamChunk#isLast()}. */
  @Override
  ChunkStream handler(Handler<StreamChunk> handler);

  @Override
  ChunkStream pause();

  @Override
  ChunkStream resume();

  @Override
  ChunkStream fetch(long amount);

  @Override
  ChunkStream endHandler(Handler<Void> endHandler);

  @Override
  ChunkStream exceptionHandler(Handler<Throwable> handler);

  /** Stops the generation on the worker; no chunk is delivered afterwards, and the end handler does not run. */
  void cancel(String reason);

  /** The worker serving this stream. */
  String workerId();
}
