package io.switchboard.protocol;

import io.vertx.core.json.JsonObject;

/** W3C trace context carried with a request across nodes; both fields may be null. */
public record TraceContext(String traceparent, String tracestate) {

  public static final TraceContext NONE = new TraceContext(null, null);

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
