package io.switchboard.gateway.plane;

/**
 * What differs per plane in one stream, gateway side: how the consumer's demand reaches the worker (credits on the
 * event bus and to a same-node worker, the call's HTTP/2 window on gRPC) and how the worker is told to stop. Everything
 * else about a stream (order, queueing, ending, timeouts) is {@link PlaneChunkStream}'s, the same on every plane.
 * Called only on the gateway verticle's event loop.
 */
interface WorkerLink {

  /**
   * The consumer took {@code taken} more chunks (not counting the last) and now has demand left, or none if
   * {@code paused}. {@code taken} may be 0: the consumer only paused or resumed, and chunks taken before a pause may
   * still need acknowledging. A credited link renews credits only for what was taken, so what can queue at the
   * gateway stays within one window; a windowed link holds the worker back while paused.
   */
  void demand(int taken, boolean paused);

  /** Tells the worker to stop generating (best effort: it may be gone already). */
  void stop(String reason);
}
