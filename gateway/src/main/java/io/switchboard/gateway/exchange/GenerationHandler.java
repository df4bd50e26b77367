package io.switchboard.gateway.exchange;

import io.switchboard.gateway.api.ApiError;
import io.switchboard.gateway.api.ClientText;
import io.switchboard.gateway.api.CompletionRequest;
import io.switchboard.gateway.api.ErrorResponder;
import io.switchboard.gateway.api.GatewayServices;
import io.switchboard.gateway.api.RequestIds;
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

  private void admit(RoutingContext ctx, String requestId, Dialect.Call call) {
    CompletionRequest request = call.request();
    ApiKey key = ApiKeyAuth.of(ctx);
    if (!key.allows(request.model())) {
      services.metrics().refused("model_not_allowed");
      ErrorResponder.send(ctx, new ApiError(403, "invalid_request_error", "model_not_allowed", "model",
          "The API key '" + key.name() + "' may not use model '" + ClientText.shown(request.model()) + "'; it may use "
              + String.join(", ", new java.util.TreeSet<>(key.models())) + ". Ask the gateway's operator to add the "
              + "model to the key's models= (gateway.apiKeys)."));
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
