package io.switchboard.gateway.security;

import io.switchboard.gateway.http.ApiError;
import io.switchboard.gateway.http.ClientText;
import io.switchboard.gateway.http.ErrorResponder;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Consumer;
import java.util.function.Supplier;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Guards the API ({@code /v1/*}): a request must carry a configured API key as {@code Authorization: Bearer KEY}
 * (OpenAI's SDKs) or {@code x-api-key: KEY} (Anthropic's), or it gets 401 in its route's error shape. The key found
 * (or the anonymous identity, when the gateway has no keys) is left in the routing context for the model check and
 * the rate limiter. Other headers (Anthropic's {@code anthropic-version}, {@code anthropic-beta}) are not required and
 * not checked.
 */
public final class ApiKeyAuth implements Handler<RoutingContext> {

  /** Routing-context key of the {@link ApiKey} a request was made with. */
  public static final String CONTEXT_KEY = "switchboard.apiKey";
  private static final Logger log = LoggerFactory.getLogger(ApiKeyAuth.class);

  private final Supplier<ApiKeys> keys;
  private final ApiKey anonymous;
  private final Consumer<String> refused;
  private final LogThrottle logThrottle = new LogThrottle(5000);

  /** @param refused told the reason of every refusal (for the metrics) */
  /** @param keys the keys now (they may be reloaded while the gateway runs) */
  public ApiKeyAuth(Supplier<ApiKeys> keys, RateLimitOptions defaults, Consumer<String> refused) {
    this.keys = keys;
    this.anonymous = ApiKey.anonymous(defaults);
    this.refused = refused;
  }

  /** The key a request was made with (anonymous when the gateway has no keys). */
  public static ApiKey of(RoutingContext ctx) {
    return ctx.get(CONTEXT_KEY);
  }

  @Override
  public void handle(RoutingContext ctx) {
    ApiKeys keys = this.keys.get();
    if (keys.isEmpty()) {
      ctx.put(CONTEXT_KEY, anonymous);
      ctx.next();
      return;
    }
    String header = ctx.request().getHeader("authorization");
    String apiKeyHeader = ctx.request().getHeader("x-api-key");
    String bearer = header != null && header.length() > 7 && header.regionMatches(true, 0, "Bearer ", 0, 7)
        ? header.substring(7).strip() : null;
    // Anthropic's SDKs send the key as x-api-key; OpenAI's as a bearer token. A bearer token wins when both come.
    String presented = bearer != null && !bearer.isEmpty() ? bearer
        : apiKeyHeader != null && !apiKeyHeader.isBlank() ? apiKeyHeader.strip() : bearer;
    ApiKey key = presented == null || presented.isEmpty() ? null : keys.find(presented);
    if (key != null) {
      ctx.put(CONTEXT_KEY, key);
      ctx.next();
      return;
    }
    boolean none = header == null && apiKeyHeader == null;
    logRefusal(ctx, none ? "no Authorization or x-api-key header" : presented == null ? "Authorization is not Bearer"
        : "unknown key");
    refused.accept(none ? "missing_api_key" : "invalid_api_key");
    ctx.response().putHeader("www-authenticate", "Bearer");
    ErrorResponder.send(ctx, none
        ? new ApiError(401, "invalid_request_error", "missing_api_key", null,
            "You didn't provide an API key. Send it as 'Authorization: Bearer <key>' (the OpenAI SDKs do this with "
                + "api_key=...) or as 'x-api-key: <key>' (the Anthropic SDKs). The gateway's operator gives out keys "
                + "(gateway.apiKeys).")
        : presented == null
            ? new ApiError(401, "invalid_request_error", "invalid_api_key", null,
                "The Authorization header must be 'Bearer <key>' (or send the key as 'x-api-key: <key>').")
            : new ApiError(401, "invalid_request_error", "invalid_api_key", null,
                "Incorrect API key provided: " + redact(presented) + ". Check the key, or ask the gateway's operator "
                    + "for one (gateway.apiKeys)."));
  }

  /** At most one line every 5 s, with how many were refused since: a flood of bad keys must not flood the log. */
  private void logRefusal(RoutingContext ctx, String reason) {
    long since = logThrottle.due(System.currentTimeMillis());
    if (since >= 0) {
      log.info("request refused: no valid API key", kv("path", ClientText.shown(ctx.request().path())),
          kv("remote", String.valueOf(ctx.request().remoteAddress())), kv("reason", reason),
          kv("refusedSinceLastLine", since));
    }
  }

  /** Enough of a key to recognise it, not enough to use it. */
  static String redact(String key) {
    return key.length() <= 8 ? "***" : key.substring(0, 3) + "***" + key.substring(key.length() - 2);
  }
}
