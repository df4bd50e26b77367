package io.switchboard.protocol;

import io.vertx.core.json.JsonObject;

/**
 * Token counts of a finished generation, as OpenAI's {@code usage} object reports them.
 *
 * @param cachedTokens prompt tokens the engine found in its prefix (KV) cache and did not compute again;
 *                     0 when none or when the engine does not say
 */
public record Usage(int promptTokens, int completionTokens, int cachedTokens) {

  public Usage(int promptTokens, int completionTokens) {
    this(promptTokens, completionTokens, 0);
  }

  public int totalTokens() {
    return promptTokens + completionTokens;
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("promptTokens", promptTokens)
        .put("completionTokens", completionTokens);
    if (cachedTokens > 0) {
      json.put("cachedTokens", cachedTokens);
    }
    return json;
  }

  public static Usage fromJson(JsonObject json) {
    if (json == null) {
      return null;
    }
    return new Usage(json.getInteger("promptTokens", 0), json.getInteger("completionTokens", 0),
        json.getInteger("cachedTokens", 0));
  }

  /**
   * The OpenAI wire form: {@code {"prompt_tokens","completion_tokens","total_tokens"}}, plus
   * {@code prompt_tokens_details.cached_tokens} when the engine reused cached prompt tokens.
   */
  public JsonObject toOpenAi() {
    JsonObject json = new JsonObject()
        .put("prompt_tokens", promptTokens)
        .put("completion_tokens", completionTokens)
        .put("total_tokens", totalTokens());
    if (cachedTokens > 0) {
      json.put("prompt_tokens_details", new JsonObject().put("cached_tokens", cachedTokens));
    }
    return json;
  }
}
