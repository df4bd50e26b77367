package io.switchboard.gateway.plane;

/**
 * How one event-bus stream reaches its worker on another node: credits and cancels go to the worker's control address,
 * in the format it reads (binary or JSON).
 */
final class EventBusLink implements WorkerLink {

  private final EventBusRequestPlane plane;
  private final String workerId;
  private final String streamId;
  private final boolean binary;
  private final CreditWindow credits;

  EventBusLink(EventBusRequestPlane plane, String workerId, String streamId, int window, boolean binary) {
    this.plane = plane;
    this.workerId = workerId;
    this.streamId = streamId;
    this.binary = binary;
    this.credits = new CreditWindow(window);
  }

  @Override
  public void demand(int taken, boolean paused) {
    int grant = credits.taken(taken);
    if (grant > 0) {
      plane.sendCredits(workerId, streamId, grant, binary);
    }
  }

  @Override
  public void stop(String reason) {
    plane.sendCancel(workerId, streamId, reason, binary);
  }
}
