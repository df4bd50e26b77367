package io.switchboard.testsupport;

import java.time.Duration;
import java.util.function.Predicate;

/**
 * Waits on the calling thread until something the test cannot be told about holds: a gateway has discovered its
 * workers, a process answers on its port, another node has written a counter. It is for tests that drive the system
 * through blocking clients or separate processes; an asynchronous Vert.x test completes a {@code VertxTestContext}
 * instead of polling.
 *
 * <p>It looks at once, then after a few milliseconds, then less and less often (at most every 100 ms): a condition
 * that holds soon costs little time, one that takes seconds little CPU. When the time is up it fails with an
 * {@link AssertionError} that says what it waited for, how long, and (for {@link #read}) the last value it saw. An
 * exception from the condition is not retried: it fails the test at once, as it would outside the wait.
 */
public final class Eventually {

  private static final long FIRST_PAUSE_MS = 5;
  private static final long LONGEST_PAUSE_MS = 100;

  private Eventually() {
  }

  /** Returns once {@code condition} holds; fails after {@code timeout} naming {@code what} was awaited. */
  public static void within(Duration timeout, String what, Condition condition) throws Exception {
    poll(timeout, what, condition::holds, Boolean::booleanValue, false);
  }

  /**
   * Reads {@code probe} until {@code accepted} takes its value and returns that value; fails after {@code timeout}
   * with the last value read, so the failure shows how far the system got.
   */
  public static <T> T read(Duration timeout, String what, Probe<T> probe, Predicate<? super T> accepted)
      throws Exception {
    return poll(timeout, what, probe, accepted, true);
  }

  private static <T> T poll(Duration timeout, String what, Probe<T> probe, Predicate<? super T> accepted,
      boolean tellLastValue) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    long pauseMs = FIRST_PAUSE_MS;
    while (true) {
      T value = probe.read();
      if (accepted.test(value)) {
        return value;
      }
      if (System.nanoTime() - deadline >= 0) {
        throw new AssertionError("waited " + timeout.toMillis() + " ms until " + what
            + (tellLastValue ? "; last seen: " + value : ""));
      }
      Thread.sleep(pauseMs);
      pauseMs = Math.min(LONGEST_PAUSE_MS, pauseMs * 2);
    }
  }

  /**
   * {@code condition} with an {@link java.io.IOException} or {@link RuntimeException} taken as "not yet": for a
   * process that may not answer while it starts, or while the network between it and the test is cut.
   */
  public static Condition failuresAsNotYet(Condition condition) {
    return () -> {
      try {
        return condition.holds();
      } catch (java.io.IOException | RuntimeException notYet) {
        return false;
      }
    };
  }

  /** Whether what a test waits for holds now. */
  @FunctionalInterface
  public interface Condition {
    boolean holds() throws Exception;
  }

  /** Reads the value a test waits on. */
  @FunctionalInterface
  public interface Probe<T> {
    T read() throws Exception;
  }
}
