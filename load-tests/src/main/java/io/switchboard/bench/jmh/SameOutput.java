package io.switchboard.bench.jmh;

import java.util.Objects;

/**
 * Keeps a fast-path benchmark honest: in its set-up, the library way and the fast path are run once on the same
 * input and must give the same bytes or values, or the benchmark stops before it measures anything.
 */
public final class SameOutput {

  private SameOutput() {
  }

  /** @throws IllegalStateException naming {@code what} and both results when they differ */
  public static void require(String what, Object library, Object fast) {
    if (!Objects.equals(library, fast)) {
      throw new IllegalStateException(what + ": the fast path and the library way disagree, so the benchmark would"
          + " compare different work.\n  library: " + library + "\n  fast:    " + fast);
    }
  }
}
