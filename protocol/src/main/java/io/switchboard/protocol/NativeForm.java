package io.switchboard.protocol;

import io.vertx.core.json.JsonObject;

import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * The client's request as it wrote it, in a dialect other than OpenAI chat, for a worker whose backend serves that
 * dialect itself: the worker passes {@link #body()} to the backend's own path ({@code /v1/responses},
 * {@code /v1/messages}) instead of the chat body the gateway translated it into, so the dialect's own features
 * reach the backend. The chat body always travels too: a worker that does not serve the dialect (or is older than
 * this field) uses it, and so does every resumed attempt (continuing a partial answer is done through chat).
 *
 * @param dialect {@link #RESPONSES} or {@link #MESSAGES}
 * @param body    the client's body in that dialect, as given
 */
public record NativeForm(String dialect, JsonObject body) {

  /** OpenAI's Responses API, {@code POST /v1/responses}. */
  public static final String RESPONSES = "responses";
  /** Anthropic's Messages API, {@code POST /v1/messages}. */
  public static final String MESSAGES = "messages";
  /** Every dialect a worker may serve natively. */
  public static final List<String> DIALECTS = List.of(RESPONSES, MESSAGES);

  public NativeForm {
    Objects.requireNonNull(dialect, "dialect");
    Objects.requireNonNull(body, "body");
  }

  /** Whether {@code name} is a dialect a worker may serve natively. */
  public static boolean known(String name) {
    return DIALECTS.contains(name);
  }

  /** The backend's path of the dialect: {@code /v1/responses} or {@code /v1/messages}. */
  public String path() {
    return path(dialect);
  }

  public static String path(String dialect) {
    return "/v1/" + dialect;
  }

  /** Whether a worker that lists {@code nativeDialects} serves this form as it is. */
  public boolean servedBy(Collection<String> nativeDialects) {
    return nativeDialects != null && nativeDialects.contains(dialect);
  }

  public JsonObject toJson() {
    return new JsonObject().put("dialect", dialect).put("body", body);
  }

  /** Null when {@code json} is null or names no dialect (an older gateway's request carries none). */
  public static NativeForm fromJson(JsonObject json) {
    if (json == null || json.getString("dialect") == null || json.getString("dialect").isEmpty()) {
      return null;
    }
    JsonObject body = json.getJsonObject("body");
    return body == null ? null : new NativeForm(json.getString("dialect"), body);
  }
}
