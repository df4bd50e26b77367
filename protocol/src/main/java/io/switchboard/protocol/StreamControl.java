package io.switchboard.protocol;

import io.vertx.core.json.JsonObject;

/** Gateway-to-worker messages about a running stream: grant more credits, or cancel it. */
public final class StreamControl {

  public static final String STREAM_ID = "streamId";
  public static final String CREDITS = "credits";
  public static final String CANCEL = "cancel";
  public static final String REASON = "reason";

  private StreamControl() {
  }

  public static JsonObject credits(String streamId, int credits) {
    return new JsonObject().put(STREAM_ID, streamId).put(CREDITS, credits);
  }

  public static JsonObject cancel(String streamId, String reason) {
    return new JsonObject().put(STREAM_ID, streamId).put(CANCEL, true).put(REASON, reason);
  }
}
