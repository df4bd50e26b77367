package io.switchboard.protocol;

import io.vertx.core.json.JsonObject;

/**
 * What was already generated for a request, so another worker can continue it where the first one stopped.
 * {@link #EMPTY} for a fresh request.
 */
public record ResumeState(String text, int completionTokens) {

  public static final ResumeState EMPTY = new ResumeState("", 0);

  public ResumeState {
    text = text == null ? "" : text;
  }

  public boolean isEmpty() {
    return text.isEmpty() && completionTokens == 0;
  }

  public JsonObject toJson() {
    return new JsonObject().put("text", text).put("completionTokens", completionTokens);
  }

  public static ResumeState fromJson(JsonObject json) {
    if (json == null) {
      return EMPTY;
    }
    return new ResumeState(json.getString("text", ""), json.getInteger("completionTokens", 0));
  }
}
