package io.switchboard.gateway.api;

import io.switchboard.gateway.security.ApiKey;
import io.switchboard.gateway.security.ApiKeyAuth;
import io.switchboard.protocol.RequestKind;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code POST /v1/chat/completions}, {@code POST /v1/completions} and {@code POST /v1/embeddings}: validate, then
 * run an exchange (an embeddings request travels the same way and comes back whole).
 */
public final class CompletionsHandler implements Handler<RoutingContext> {

  private final GatewayServices services;
  private final RequestKind kind;
  private final String endpoint;
  private final RequestValidator validator;

  public CompletionsHandler(GatewayServices services, RequestKind kind) {
    this.services = services;
    this.validator = new RequestValidator(services.options().getLimits());
    this.kind = kind;
    this.endpoint = switch (kind) {
      case CHAT -> "chat_completions";
      case COMPLETION -> "completions";
      case EMBEDDING -> "embeddings";
    };
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
    CompletionRequest request = kind == RequestKind.EMBEDDING ? validator.validateEmbedding(ctx.body().buffer())
        : validator.validate(kind, ctx.body().buffer());
    ApiKey key = ApiKeyAuth.of(ctx);
    if (!key.allows(request.model())) {
      services.metrics().refused("model_not_allowed");
      throw new ApiError(403, "invalid_request_error", "model_not_allowed", "model",
          "The API key '" + key.name() + "' may not use model '" + ClientText.shown(request.model()) + "'; it may use "
              + String.join(", ", new java.util.TreeSet<>(key.models())) + ". Ask the gateway's operator to add the "
              + "model to the key's models= (gateway.apiKeys).");
    }
    if (!key.rateLimited()) {
      new GenerationExchange(services, ctx, request, requestId, endpoint).start();
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
      new GenerationExchange(services, ctx, request, requestId, endpoint).start();
    });
  }
}
