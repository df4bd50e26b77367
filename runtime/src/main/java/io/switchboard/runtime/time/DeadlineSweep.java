package io.switchboard.runtime.time;

import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * Many timeouts on one event loop, kept by one periodic check instead of a Vert.x timer each. Every request
 * arms a watchdog or two (first token at the gateway, backend silence at the worker) and nearly every one is
 * cancelled a millisecond later; a Vert.x timer costs a map entry, a close hook and a place in the loop's timer
 * queue, set and removed, which showed in a node's profile (docs/performance.md). Here a deadline is one entry in
 * a set, and a timeout fires at most one period late. Created and used on one context (not thread-safe); the
 * periodic check runs only while deadlines are pending. It lives in runtime/ because gateway and worker both use it.
 */
public final class DeadlineSweep {

  private final Vertx vertx;
  private final long periodMs;
  private final LongSupplier nanoTime;
  private final Set<Deadline> pending = new LinkedHashSet<>();
  private long timer = -1;
  private boolean stopped;

  /** @param periodMs how often deadlines are checked: how late, at most, a timeout fires */
  public DeadlineSweep(Vertx vertx, long periodMs) {
    this(vertx, periodMs, System::nanoTime);
  }

  /**
   * @param nanoTime what "now" is, in nanoseconds: {@link System#nanoTime} in production; tests pass a clock they
   *     move by hand, so that a deadline expires when the test says, not after real time has passed
   */
  DeadlineSweep(Vertx vertx, long periodMs, LongSupplier nanoTime) {
    if (periodMs < 1) {
      throw new IllegalArgumentException("periodMs must be at least 1, got " + periodMs);
    }
    this.vertx = vertx;
    this.periodMs = periodMs;
    this.nanoTime = nanoTime;
  }

  /** Runs {@code onExpired} once {@code delayMs} have passed, unless the returned deadline is cancelled first. */
  public Deadline watch(long delayMs, Runnable onExpired) {
    Deadline deadline = new Deadline(this, onExpired);
    deadline.postpone(delayMs);
    pending.add(deadline);
    if (timer < 0 && !stopped) {
      timer = vertx.setPeriodic(periodMs, id -> sweep());
    }
    return deadline;
  }

  /** Deadlines waiting now (for tests and gauges). */
  public int pending() {
    return pending.size();
  }

  /** Cancels every pending deadline without running it; later watches are kept but never fire. */
  public void stop() {
    stopped = true;
    pending.clear();
    stopTimer();
  }

  private void sweep() {
    long now = nanoTime.getAsLong();
    List<Deadline> expired = null;
    for (Deadline deadline : pending) {
      if (now - deadline.dueNanos >= 0) {
        if (expired == null) {
          expired = new ArrayList<>();
        }
        expired.add(deadline);
      }
    }
    if (expired != null) {
      // Removed before running: an action may watch or cancel others.
      pending.removeAll(expired);
      for (Deadline deadline : expired) {
        deadline.action.run();
      }
    }
    if (pending.isEmpty()) {
      stopTimer();
    }
  }

  private void stopTimer() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  /** One pending timeout. */
  public static final class Deadline {
    private final DeadlineSweep sweep;
    private final Runnable action;
    private long dueNanos;

    private Deadline(DeadlineSweep sweep, Runnable action) {
      this.sweep = sweep;
      this.action = action;
    }

    /** Moves the deadline to {@code delayMs} from now (the watched thing showed life). */
    public void postpone(long delayMs) {
      dueNanos = sweep.nanoTime.getAsLong() + delayMs * 1_000_000;
    }

    /** It will not run; cancelling twice, or after it ran, does nothing. */
    public void cancel() {
      sweep.pending.remove(this);
    }
  }
}
