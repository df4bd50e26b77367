package io.switchboard.gateway.api;

import io.switchboard.protocol.RequestKind;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/** {@code POST /v1/chat/completions} and {@code POST /v1/completions}: validate, then run an exchange. */
public final class CompletionsHandler implements Handler<RoutingContext> {

  private final GatewayServices services;
  private final RequestKind kind;
  private final String endpoint;
  private final RequestValidator validator = new RequestValidator();

  public CompletionsHandler(GatewayServices services, RequestKind kind) {
    this.services = services;
    this.kind = kind;
    this.endpoint = kind == RequestKind.CHAT ? "chat_completions" : "completions";
  }

  @Override
  public void handle(RoutingContext ctx) {
    String requestId = RequestIds.of(ctx.request());
    ctx.put(RequestIds.HEADER, requestId);
    ctx.response().putHeader(RequestIds.HEADER, requestId);
    CompletionRequest request = validator.validate(kind, ctx.body().buffer());
    new GenerationExchange(services, ctx, request, requestId, endpoint).start();
  }
}
