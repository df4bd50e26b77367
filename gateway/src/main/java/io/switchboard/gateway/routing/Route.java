package io.switchboard.gateway.routing;

/**
 * One request routed to one worker, counted in that worker's open requests and, until its first token, in its
 * pending prefill. The exchange reports the first token and the end; both are idempotent.
 */
public final class Route {

  private final Pick pick;
  private boolean prefilled;
  private boolean released;

  Route(Pick pick) {
    this.pick = pick;
    pick.worker().openHere().increment();
    pick.worker().openHere().addPendingPrefill(pick.uncachedChars());
  }

  public Pick pick() {
    return pick;
  }

  /** The worker produced its first token: the prompt is computed. */
  public void firstToken() {
    if (!prefilled) {
      prefilled = true;
      pick.worker().openHere().addPendingPrefill(-pick.uncachedChars());
    }
  }

  /** The request ended on this worker (finished, failed, or moved to another). */
  public void release() {
    if (!released) {
      firstToken();
      released = true;
      pick.worker().openHere().decrement();
    }
  }
}
