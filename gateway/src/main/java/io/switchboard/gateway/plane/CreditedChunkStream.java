package io.switchboard.gateway.plane;

/**
 * A stream whose worker may send only as many chunks as it has credits for: credits are renewed, half a window
 * at a time, only as the consumer takes chunks while not paused, so the queue here stays within one window. A
 * subclass says how credits reach the worker.
 */
abstract class CreditedChunkStream extends PlaneChunkStream {

  private final int window;
  private int takenSinceGrant;

  CreditedChunkStream(StreamTable table, String workerId, String nodeId, String streamId, int window,
                      long deadlineNanos) {
    super(table, workerId, nodeId, streamId, deadlineNanos);
    this.window = window;
  }

  /** Grants the worker room for {@code credits} more chunks. */
  abstract void grant(int credits);

  @Override
  final void delivered(int chunks) {
    takenSinceGrant += chunks;
    if (takenSinceGrant >= window / 2) {
      grant(takenSinceGrant);
      takenSinceGrant = 0;
    }
  }
}
