package io.switchboard.worker.plane;

import io.switchboard.protocol.StreamChunk;

/**
 * What differs per plane in one stream, worker side: how a chunk travels to the gateway, and when the way is full
 * (no credits left on the event bus and to a same-node gateway, the call's HTTP/2 window on gRPC). Numbering and
 * building the chunks is {@link ChunkSender}'s, the same on every plane. Used on the worker's context.
 */
interface ChunkChannel {

  /** Sends one chunk; the stream ends with it if it {@link StreamChunk#isLast()}. */
  void send(StreamChunk chunk);

  /** Whether the engine must wait before it writes more. */
  boolean full();

  /** Called once, on the worker's context, when the channel can take more after {@link #full()} was true. */
  void drainHandler(Runnable handler);
}
