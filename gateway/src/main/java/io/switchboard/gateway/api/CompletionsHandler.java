package io.switchboard.gateway.api;

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
  private final RequestValidator validator = new RequestValidator();

  public CompletionsHandler(GatewayServices services, RequestKind kind) {
    this.services = services;
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
    ctx.response().putHeader(RequestIds.HEADER, requestId);
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
    new GenerationExchange(services, ctx, request, requestId, endpoint).start();
  }
}
