package io.switchboard.protocol;

import io.vertx.core.json.JsonObject;

/** Token counts of a finished generation, as OpenAI's {@code usage} object reports them. */
public record Usage(int promptTokens, int completionTokens) {

  public int totalTokens() {
    return promptTokens + completionTokens;
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("promptTokens", promptTokens)
        .put("completionTokens", completionTokens);
  }

  public static Usage fromJson(JsonObject json) {
    if (json == null) {
      return null;
    }
    return new Usage(json.getInteger("promptTokens", 0), json.getInteger("completionTokens", 0));
  }

  /** The OpenAI wire form: {@code {"prompt_tokens","completion_tokens","total_tokens"}}. */
  public JsonObject toOpenAi() {
    return new JsonObject()
        .put("prompt_tokens", promptTokens)
        .put("completion_tokens", completionTokens)
        .put("total_tokens", totalTokens());
  }
}
