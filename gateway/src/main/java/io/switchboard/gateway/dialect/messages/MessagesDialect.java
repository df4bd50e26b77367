package io.switchboard.gateway.dialect.messages;

import io.switchboard.gateway.api.CompletionRequest;
import io.switchboard.gateway.api.RequestValidator;
import io.switchboard.gateway.exchange.AnswerWriter;
import io.switchboard.gateway.exchange.Dialect;
import io.switchboard.gateway.http.ApiError;
import io.switchboard.protocol.NativeForm;
import io.switchboard.protocol.RequestKind;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * Anthropic's Messages API, {@code POST /v1/messages}: the request is translated into an OpenAI chat body
 * ({@link MessagesTranslator}), checked as any chat request is (the gateway's caps on messages and max_tokens
 * included), and run by the exchange; {@link MessagesAnswerWriter} writes the answer as a Messages response or
 * event stream. Errors on the route come in Anthropic's shape ({@link AnthropicErrors}, installed on the route).
 */
public final class MessagesDialect implements Dialect {

  private final RequestValidator validator;

  public MessagesDialect(RequestValidator validator) {
    this.validator = validator;
  }

  @Override
  public String endpoint() {
    return "messages";
  }

  @Override
  public Future<Call> read(RoutingContext ctx) {
    CompletionRequest request;
    try {
      request = read(validator, RequestValidator.parseObject(ctx.body().buffer()));
    } catch (ApiError invalid) {
      return Future.failedFuture(invalid);
    }
    return Future.succeededFuture(Call.of(request, requestId -> new MessagesAnswerWriter(ctx, request, requestId)));
  }

  /** A Messages body as the chat request the exchange runs. */
  static CompletionRequest read(RequestValidator validator, JsonObject body) {
    CompletionRequest chat = validator.validateWithTokenCeiling(MessagesTranslator.toChat(body, false));
    // A worker whose backend serves /v1/messages gets the request as written, unless the gateway had to reshape it.
    return MessagesTranslator.servableAsWritten(body) ? chat.withNative(NativeForm.MESSAGES, body) : chat;
  }
}
