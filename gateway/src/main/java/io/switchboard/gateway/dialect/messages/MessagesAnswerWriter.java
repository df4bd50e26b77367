package io.switchboard.gateway.dialect.messages;

import io.switchboard.gateway.api.CompletionRequest;
import io.switchboard.gateway.exchange.AnswerWriter;
import io.switchboard.gateway.exchange.ChoiceExtras;
import io.switchboard.gateway.exchange.SseWriter;
import io.switchboard.gateway.http.ApiError;
import io.switchboard.gateway.http.ErrorResponder;
import io.switchboard.protocol.Usage;
import io.switchboard.runtime.json.JsonText;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * A Messages answer: one {@code message} object, or the event stream {@link MessagesStream} makes. The stream's
 * head goes out with the first piece of the answer, so a failure before it is still an HTTP error in Anthropic's
 * shape; a failure after it is an {@code error} event that ends the stream (never a silent cut: no
 * {@code message_stop} follows).
 */
final class MessagesAnswerWriter implements AnswerWriter {

  private static final CharSequence APPLICATION_JSON = HttpHeaders.createOptimized("application/json");

  private final RoutingContext ctx;
  private final HttpServerResponse response;
  private final CompletionRequest request;
  private final String requestId;
  private final String id;
  private final SseWriter sse;
  private final MessagesStream stream;
  private final StringBuilder text = new StringBuilder();
  private final ChoiceExtras extras = new ChoiceExtras();
  /** The model the answer names: the one that served it. */
  private String model;
  private boolean headSent;

  MessagesAnswerWriter(RoutingContext ctx, CompletionRequest request, String requestId) {
    this.ctx = ctx;
    this.response = ctx.response();
    this.request = request;
    this.requestId = requestId;
    this.id = MessagesFormat.messageId(requestId);
    this.sse = new SseWriter(response);
    this.model = request.model();
    this.stream = new MessagesStream(id, model, sse::event);
  }

  @Override
  public void delta(String piece, JsonObject extra) {
    if (request.stream()) {
      // A piece's events (with the stream's head for the first) go out in one write.
      sse.hold();
      begin();
      stream.delta(piece, extra);
      sse.release();
      return;
    }
    text.append(piece);
    if (extra != null) {
      extras.add(extra);
    }
  }

  @Override
  public void servedBy(String model) {
    this.model = model;
    stream.servedBy(model);
  }

  @Override
  public Future<Void> complete(String finishReason, Usage usage, JsonObject wholeAnswer) {
    if (!request.stream()) {
      return response.putHeader(HttpHeaders.CONTENT_TYPE, APPLICATION_JSON)
          .end(JsonText.toBuffer(MessagesFormat.completeMessage(id, model, text.toString(), extras,
              finishReason, usage)));
    }
    sse.hold();
    begin();
    stream.finish(finishReason, usage);
    return sse.end();
  }

  @Override
  public Future<Void> failed(ApiError error) {
    if (!headSent && !sse.headWritten()) {
      return ErrorResponder.send(ctx, error);
    }
    sse.event("error", AnthropicErrors.streamEvent(error));
    return sse.end();
  }

  @Override
  public boolean keepAlive(String comment) {
    if (!request.stream() || headSent) {
      return false;
    }
    sse.keepAlive(requestId, comment);
    return true;
  }

  @Override
  public boolean started() {
    return headSent;
  }

  private void begin() {
    if (!headSent) {
      headSent = true;
      sse.begin(requestId);
      stream.start();
    }
  }
}
