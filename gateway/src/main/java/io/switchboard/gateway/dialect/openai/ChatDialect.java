package io.switchboard.gateway.dialect.openai;

import io.switchboard.gateway.api.CompletionRequest;
import io.switchboard.gateway.api.RequestValidator;
import io.switchboard.gateway.exchange.AnswerWriter;
import io.switchboard.gateway.exchange.Dialect;
import io.switchboard.gateway.http.ApiError;
import io.switchboard.protocol.RequestKind;
import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;

/**
 * OpenAI's {@code POST /v1/chat/completions} and {@code POST /v1/completions}: the gateway's native dialect, which
 * workers speak too; the request goes to them as the client sent it.
 */
public final class ChatDialect implements Dialect {

  private final RequestKind kind;
  private final RequestValidator validator;

  /** @param kind {@link RequestKind#CHAT} or {@link RequestKind#COMPLETION} */
  public ChatDialect(RequestKind kind, RequestValidator validator) {
    if (kind == RequestKind.EMBEDDING) {
      throw new IllegalArgumentException("embeddings have their own dialect");
    }
    this.kind = kind;
    this.validator = validator;
  }

  @Override
  public String endpoint() {
    return kind == RequestKind.CHAT ? "chat_completions" : "completions";
  }

  @Override
  public Future<Call> read(RoutingContext ctx) {
    CompletionRequest request;
    try {
      request = validator.validate(kind, ctx.body().buffer());
    } catch (ApiError invalid) {
      return Future.failedFuture(invalid);
    }
    return Future.succeededFuture(Call.of(request, requestId -> new ChatAnswerWriter(ctx, request, requestId)));
  }
}
