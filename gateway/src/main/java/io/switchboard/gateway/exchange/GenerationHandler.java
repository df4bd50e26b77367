package io.switchboard.gateway.exchange;

import io.switchboard.gateway.api.CompletionRequest;
import io.switchboard.gateway.http.ApiError;
import io.switchboard.gateway.http.ClientText;
import io.switchboard.gateway.http.ErrorResponder;
import io.switchboard.gateway.http.RequestIds;
import io.switchboard.gateway.models.ModelAliases;
import io.switchboard.gateway.security.ApiKey;
import io.switchboard.gateway.security.ApiKeyAuth;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * A generation endpoint of any dialect: the gateway's in-flight cap, the dialect reads the request, the API key's
 * model restriction and rate limit, then an exchange runs it. The same admission holds whatever the dialect.
 */
public final class GenerationHandler implements Handler<RoutingContext> {

  private final GatewayServices services;
  private final Dialect dialect;

  public GenerationHandler(GatewayServices services, Dialect dialect) {
    this.services = services;
    this.dialect = dialect;
  }

  @Override
  public void handle(RoutingContext ctx) {
    String requestId = RequestIds.of(ctx.request());
    ctx.put(RequestIds.HEADER, requestId);
    ctx.response().putHeader(RequestIds.HEADER_NAME, requestId);
    int limit = services.options().getMaxInFlight();
    if (services.metrics().inFlight() >= limit) {
      ctx.response().putHeader("retry-after", "1");
      ErrorResponder.send(ctx, new ApiError(503, "service_unavailable_error", "gateway_overloaded", null,
          "This gateway is already serving " + limit + " requests (gateway.maxInFlight; request " + requestId
              + "). Retry shortly, or use another gateway."));
      return;
    }
    dialect.read(ctx).onComplete(read -> {
      if (read.failed()) {
        ctx.fail(read.cause());
      } else if (!ctx.response().closed()) {
        admit(ctx, requestId, read.result());
      }
    });
  }

  /**
   * Why {@code key} may not use {@code model}, or null when it may. A model by its own name: when the key lists it.
   * An alias: when the key lists the alias (then every model of it), or some of its models (then only those).
   */
  public static ApiError notAllowed(ModelAliases aliases, ApiKey key, String model) {
    if (key == null || key.allows(model)) {
      return null;
    }
    String allowed = String.join(", ", new java.util.TreeSet<>(key.models()));
    if (aliases.isAlias(model)) {
      if (!aliases.allowedTargets(model, key).isEmpty()) {
        return null;
      }
      return new ApiError(403, "invalid_request_error", "model_not_allowed", "model",
          // The alias's models are not named: a key restricted to other models is not told of them.
          "The API key '" + key.name() + "' may not use the alias '" + model + "' nor any model it stands for; it "
              + "may use " + allowed + ". Ask the gateway's "
              + "operator to add the alias or one of its models to the key's models= (gateway.apiKeys).");
    }
    return new ApiError(403, "invalid_request_error", "model_not_allowed", "model",
        "The API key '" + key.name() + "' may not use model '" + ClientText.shown(model) + "'; it may use "
            + allowed + ". Ask the gateway's operator to add the model to the key's models= (gateway.apiKeys).");
  }

  private void admit(RoutingContext ctx, String requestId, Dialect.Call call) {
    CompletionRequest request = call.request();
    ApiKey key = ApiKeyAuth.of(ctx);
    ApiError notAllowed = notAllowed(services.options().getModels().aliases(), key, request.model());
    if (notAllowed != null) {
      services.metrics().refused("model_not_allowed");
      ErrorResponder.send(ctx, notAllowed);
      return;
    }
    if (!key.rateLimited()) {
      new GenerationExchange(services, ctx, request, requestId, dialect.endpoint(), call.writer(requestId)).start();
      return;
    }
    services.rateLimiter().admit(key).onComplete(decided -> {
      if (ctx.response().closed()) {
        return;
      }
      var decision = decided.result();
      decision.headers().forEach(ctx.response()::putHeader);
      if (!decision.allowed() && decision.unreachable() != null) {
        services.metrics().refused("rate_limiter_unreachable");
        ctx.response().putHeader("retry-after", String.valueOf(decision.retryAfterSeconds()));
        ErrorResponder.send(ctx, new ApiError(503, "service_unavailable_error", "rate_limiter_unavailable", null,
            "API key '" + key.name() + "' is rate-limited and the cluster's rate-limit counters cannot be reached ("
                + decision.unreachable() + "; request " + requestId + "), so this gateway refuses its requests "
                + "(gateway.rateLimits.whenUnreachable: refuse). Retry shortly; the operator can check the cluster "
                + "(GET /admin/cluster)."));
        return;
      }
      if (!decision.allowed()) {
        services.metrics().refused("rate_limit_" + decision.exceeded());
        ctx.response().putHeader("retry-after", String.valueOf(decision.retryAfterSeconds()));
        String what = "requests".equals(decision.exceeded()) ? "requests per minute (RPM)" : "tokens per minute (TPM)";
        ErrorResponder.send(ctx, new ApiError(429, decision.exceeded(), "rate_limit_exceeded", null,
            "Rate limit reached for API key '" + key.name() + "' on " + what + ": limit " + decision.limit()
                + ", counted across every gateway of the cluster (request " + requestId + "). Try again in "
                + decision.retryAfterSeconds() + " s, or ask the gateway's operator for a higher "
                + ("requests".equals(decision.exceeded()) ? "rpm=" : "tpm=") + " on this key."));
        return;
      }
      new GenerationExchange(services, ctx, request, requestId, dialect.endpoint(), call.writer(requestId)).start();
    });
  }
}
