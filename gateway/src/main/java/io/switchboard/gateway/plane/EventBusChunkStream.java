package io.switchboard.gateway.plane;

/**
 * One stream over the event bus, gateway side. Chunks arrive on the plane's shared consumer; credits and cancels go to
 * the worker in the format it reads.
 */
final class EventBusChunkStream extends CreditedChunkStream {

  private final EventBusRequestPlane plane;
  private final boolean binary;

  EventBusChunkStream(EventBusRequestPlane plane, StreamTable table, String workerId, String nodeId, String streamId,
                      int window, long deadlineNanos, boolean binary) {
    super(table, workerId, nodeId, streamId, window, deadlineNanos);
    this.plane = plane;
    this.binary = binary;
  }

  @Override
  void stopWorker(String reason) {
    plane.sendCancel(workerId(), streamId(), reason, binary);
  }

  @Override
  void grant(int credits) {
    plane.sendCredits(workerId(), streamId(), credits, binary);
  }
}
