package io.switchboard.runtime.config;

import java.util.Collection;

/**
 * The range and choice checks every options class runs in its {@code validate(path)}. Each throws
 * {@link IllegalArgumentException} with one message shape, so the node's startup error reads the same for any
 * setting: the setting's full path, what it must be, and what it got. {@code key} is the setting's path as the user
 * writes it (e.g. {@code gateway.limits.maxTokens}), optionally followed by what a special value means, e.g.
 * {@code "gateway.limits.maxTokens (0 = no cap)"}.
 */
public final class OptionChecks {

  private OptionChecks() {
  }

  /** {@code KEY must be >= MIN, got VALUE}. */
  public static void atLeast(String key, long value, long min) {
    atLeast(key, value, min, "");
  }

  /** {@code KEY must be >= MIN MEANING, got VALUE}, e.g. meaning {@code " (0 = no cap)"}. */
  public static void atLeast(String key, long value, long min, String meaning) {
    if (value < min) {
      throw new IllegalArgumentException(key + " must be >= " + min + meaning + ", got " + value);
    }
  }

  /** {@code KEY must be between MIN and MAX, got VALUE}. */
  public static void between(String key, long value, long min, long max) {
    between(key, value, min, max, "");
  }

  /**
   * {@code KEY must be between MIN and MAX MEANING, got VALUE}; {@code meaning} says what a special value does,
   * e.g. {@code " (0 = any free port)"}, or is empty.
   */
  public static void between(String key, long value, long min, long max, String meaning) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(key + " must be between " + min + " and " + max + meaning + ", got " + value);
    }
  }

  /** {@code KEY must be a finite number >= 0, got VALUE}: NaN and infinity fail too. */
  public static void finiteNonNegative(String key, double value) {
    finiteNonNegative(key, value, "");
  }

  /** {@code KEY must be a finite number >= 0 MEANING, got VALUE}, e.g. meaning {@code " (0 = instant)"}. */
  public static void finiteNonNegative(String key, double value, String meaning) {
    if (!(value >= 0) || Double.isInfinite(value)) {
      throw new IllegalArgumentException(key + " must be a finite number >= 0" + meaning + ", got " + value);
    }
  }

  /** {@code KEY must be WHAT}, when {@code value} is null or blank; e.g. what {@code "a non-empty model name"}. */
  public static void notBlank(String key, String value, String what) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(key + " must be " + what);
    }
  }

  /** {@code KEY must be one of [A, B], got 'VALUE'}; null counts as not one of them. */
  public static void oneOf(String key, String value, Collection<String> allowed) {
    if (value == null || !allowed.contains(value)) {
      throw new IllegalArgumentException(key + " must be one of " + allowed + ", got '" + value + "'");
    }
  }

  /** A TCP port {@code KEY must be between 1 and 65535, got VALUE}. */
  public static void port(String key, long value) {
    between(key, value, 1, 65535);
  }

  /** A port to listen on, where 0 lets the system pick: {@code KEY must be between 0 and 65535 (0 = any free port), got VALUE}. */
  public static void listenPort(String key, long value) {
    between(key, value, 0, 65535, " (0 = any free port)");
  }
}
