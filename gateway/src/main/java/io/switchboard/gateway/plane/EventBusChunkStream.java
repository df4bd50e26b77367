package io.switchboard.gateway.plane;

/**
 * One stream over the event bus, gateway side. Chunks arrive on the plane's shared consumer; the worker may
 * send only as many as it has credits for, and credits are renewed only as the consumer takes chunks while not
 * paused, so the queue here stays within one window.
 */
final class EventBusChunkStream extends PlaneChunkStream {

  private final EventBusRequestPlane plane;
  private final int window;
  private int takenSinceGrant;

  EventBusChunkStream(EventBusRequestPlane plane, StreamTable table, String workerId, String nodeId, String streamId,
                      int window, long deadlineNanos) {
    super(table, workerId, nodeId, streamId, deadlineNanos);
    this.plane = plane;
    this.window = window;
  }

  @Override
  void stopWorker(String reason) {
    plane.sendCancel(workerId(), streamId(), reason);
  }

  @Override
  void delivered(int chunks) {
    takenSinceGrant += chunks;
    if (takenSinceGrant >= window / 2) {
      plane.sendCredits(workerId(), streamId(), takenSinceGrant);
      takenSinceGrant = 0;
    }
  }
}
