package io.switchboard.protocol;

import io.vertx.core.json.JsonObject;

/** W3C trace context carried with a request across nodes; both fields may be null. */
public record TraceContext(String traceparent, String tracestate) {

  public static final TraceContext NONE = new TraceContext(null, null);
  private static final java.util.regex.Pattern TRACEPARENT =
      java.util.regex.Pattern.compile("^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$");
  /**
   * Longest {@code tracestate} passed on: W3C lets a hop drop a longer one, and a client's header would otherwise
   * ride along with every request to workers and backends at whatever length the header limit allows.
   */
  public static final int MAX_TRACESTATE_CHARS = 512;

  /**
   * The context for the next hop: the caller's trace continued with a new span id (this hop's), or a new trace
   * when the caller sent none or an invalid one (all-zero ids are invalid, as W3C says), so every request has a
   * trace id its logs and its backend share.
   */
  public static TraceContext continueOrStart(String traceparent, String tracestate,
                                             java.util.random.RandomGenerator random) {
    java.util.regex.Matcher matcher = traceparent == null ? null
        : TRACEPARENT.matcher(traceparent.trim().toLowerCase(java.util.Locale.ROOT));
    boolean valid = matcher != null && matcher.matches() && !matcher.group(1).matches("0+")
        && !matcher.group(2).matches("0+") && !traceparent.trim().startsWith("ff");
    String traceId = valid ? matcher.group(1) : hex(random, 16);
    String flags = valid ? matcher.group(3) : "01";
    return new TraceContext("00-" + traceId + "-" + hex(random, 8) + "-" + flags, valid ? bounded(tracestate) : null);
  }

  /** {@code tracestate} as it is passed on: itself, or null when longer than {@link #MAX_TRACESTATE_CHARS}. */
  public static String bounded(String tracestate) {
    return tracestate == null || tracestate.length() > MAX_TRACESTATE_CHARS ? null : tracestate;
  }

  /** The 32-hex trace id, or null without a traceparent. */
  public String traceId() {
    return traceparent == null || traceparent.length() < 35 ? null : traceparent.substring(3, 35);
  }

  private static final char[] HEX_DIGITS = "0123456789abcdef".toCharArray();

  /** Random lowercase hex, never all zeros (W3C: an all-zero id is invalid). Once per request: no Formatter. */
  private static String hex(java.util.random.RandomGenerator random, int bytes) {
    char[] out = new char[bytes * 2];
    boolean allZero = true;
    while (allZero) {
      for (int i = 0; i < out.length; i += 16) {
        long value = random.nextLong();
        allZero &= value == 0;
        for (int digit = 0; digit < 16 && i + digit < out.length; digit++) {
          out[i + digit] = HEX_DIGITS[(int) (value >>> (60 - 4 * digit)) & 0xF];
        }
      }
    }
    return new String(out);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject();
    if (traceparent != null) {
      json.put("traceparent", traceparent);
    }
    if (tracestate != null) {
      json.put("tracestate", tracestate);
    }
    return json;
  }

  public static TraceContext fromJson(JsonObject json) {
    if (json == null) {
      return NONE;
    }
    return new TraceContext(json.getString("traceparent"), json.getString("tracestate"));
  }
}
