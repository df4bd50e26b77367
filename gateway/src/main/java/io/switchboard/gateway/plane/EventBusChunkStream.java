package io.switchboard.gateway.plane;

/** One stream over the event bus, gateway side. Chunks arrive on the plane's shared consumer. */
final class EventBusChunkStream extends CreditedChunkStream {

  private final EventBusRequestPlane plane;

  EventBusChunkStream(EventBusRequestPlane plane, StreamTable table, String workerId, String nodeId, String streamId,
                      int window, long deadlineNanos) {
    super(table, workerId, nodeId, streamId, window, deadlineNanos);
    this.plane = plane;
  }

  @Override
  void stopWorker(String reason) {
    plane.sendCancel(workerId(), streamId(), reason);
  }

  @Override
  void grant(int credits) {
    plane.sendCredits(workerId(), streamId(), credits);
  }
}
