package io.switchboard.protocol;

import io.vertx.core.json.JsonObject;

/**
 * A gateway-to-worker message about a running stream: grant more credits, or cancel it. Travels as JSON
 * ({@link #toJson()}) to a worker that does not read the binary plane format, as itself otherwise.
 *
 * @param streamId the stream; null only in a JSON message that named none (the worker ignores it)
 * @param credits  how many more chunks the worker may send (0 on a cancel)
 * @param cancel   whether the gateway wants the generation stopped
 * @param reason   why it was cancelled, for the worker's log; null when not cancelled or not said
 */
public record StreamControl(String streamId, int credits, boolean cancel, String reason) implements PlaneMessage {

  public static final String STREAM_ID = "streamId";
  public static final String CREDITS = "credits";
  public static final String CANCEL = "cancel";
  public static final String REASON = "reason";

  public static StreamControl credits(String streamId, int credits) {
    return new StreamControl(streamId, credits, false, null);
  }

  public static StreamControl cancel(String streamId, String reason) {
    return new StreamControl(streamId, 0, true, reason);
  }

  /** The JSON form: {@code {"streamId","credits"}} or {@code {"streamId","cancel":true,"reason"}}. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put(STREAM_ID, streamId);
    return cancel ? json.put(CANCEL, true).put(REASON, reason) : json.put(CREDITS, credits);
  }

  public static StreamControl fromJson(JsonObject json) {
    return new StreamControl(json.getString(STREAM_ID), json.getInteger(CREDITS, 0), json.getBoolean(CANCEL, false),
        json.getString(REASON));
  }
}
