package io.switchboard.protocol;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * The sampling fields of an OpenAI request, validated and normalised by the gateway, so engines need not
 * re-parse the client's body. {@code maxTokens} is null when the client set no limit; {@code tokenCap} is the
 * most completion tokens the gateway lets any request generate (gateway.limits.maxTokens), null when it sets no
 * cap: what bounds a generation whose client set no limit.
 */
public record SamplingParams(Integer maxTokens, double temperature, double topP, List<String> stop, Long seed,
                             Integer tokenCap) {

  public static final double DEFAULT_TEMPERATURE = 1.0;
  public static final double DEFAULT_TOP_P = 1.0;

  public SamplingParams {
    stop = stop == null ? List.of() : List.copyOf(stop);
  }

  public SamplingParams(Integer maxTokens, double temperature, double topP, List<String> stop, Long seed) {
    this(maxTokens, temperature, topP, stop, seed, null);
  }

  /** The most completion tokens this generation may produce: the client's limit, else the cap; null for none. */
  public Integer tokenLimit() {
    return maxTokens != null ? maxTokens : tokenCap;
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("temperature", temperature)
        .put("topP", topP)
        .put("stop", new JsonArray(stop));
    if (maxTokens != null) {
      json.put("maxTokens", maxTokens);
    }
    if (seed != null) {
      json.put("seed", seed);
    }
    if (tokenCap != null) {
      json.put("tokenCap", tokenCap);
    }
    return json;
  }

  public static SamplingParams fromJson(JsonObject json) {
    JsonArray stops = json.getJsonArray("stop", new JsonArray());
    return new SamplingParams(
        json.getInteger("maxTokens"),
        json.getDouble("temperature", DEFAULT_TEMPERATURE),
        json.getDouble("topP", DEFAULT_TOP_P),
        stops.stream().map(String::valueOf).toList(),
        json.getLong("seed"),
        json.getInteger("tokenCap"));
  }
}
