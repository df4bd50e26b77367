package io.switchboard.gateway.dialect.openai;

import io.switchboard.gateway.api.CompletionRequest;
import io.switchboard.gateway.exchange.AnswerWriter;
import io.switchboard.gateway.exchange.ChoiceExtras;
import io.switchboard.gateway.exchange.SseWriter;
import io.switchboard.gateway.http.ApiError;
import io.switchboard.gateway.http.ErrorResponder;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.Usage;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * A chat or completion answer as OpenAI writes it: SSE chunks ending in {@code data: [DONE]} (a failure ends with an
 * error event and no [DONE]), or one JSON body with the backend's extras (tool calls, reasoning, logprobs) assembled.
 */
final class ChatAnswerWriter implements AnswerWriter {

  private static final CharSequence APPLICATION_JSON = HttpHeaders.createOptimized("application/json");

  private final RoutingContext ctx;
  private final HttpServerResponse response;
  private final CompletionRequest request;
  private final String requestId;
  private final OpenAiFormat format;
  private final SseWriter sse;
  /** A whole answer's text and extras, assembled; unused when streaming. */
  private final StringBuilder text = new StringBuilder();
  private final ChoiceExtras extras = new ChoiceExtras();
  private boolean headSent;

  ChatAnswerWriter(RoutingContext ctx, CompletionRequest request, String requestId) {
    this.ctx = ctx;
    this.response = ctx.response();
    this.request = request;
    this.requestId = requestId;
    this.format = new OpenAiFormat(request, requestId);
    this.sse = new SseWriter(response);
  }

  @Override
  public void delta(String piece, JsonObject extra) {
    if (request.stream()) {
      if (!headSent) {
        // The first piece goes out with the role chunk, in one write.
        sse.hold();
      }
      begin();
      if (extra == null) {
        format.appendTextChunk(sse.startData(), piece);
        sse.endEvent();
      } else {
        sse.event(format.deltaChunk(piece, extra));
      }
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
    format.servedBy(model);
  }

  @Override
  public Future<Void> complete(String finishReason, Usage usage, JsonObject wholeAnswer) {
    if (!request.stream()) {
      return response.putHeader(HttpHeaders.CONTENT_TYPE, APPLICATION_JSON)
          .end(format.completeResponseBody(text.toString(), finishReason, usage, extras));
    }
    sse.hold();
    begin();
    sse.event(format.finishChunk(finishReason));
    if (request.includeUsage()) {
      sse.event(format.usageChunk(usage));
    }
    return sse.done();
  }

  @Override
  public Future<Void> failed(ApiError error) {
    return headSent || sse.headWritten() ? sse.failed(error) : ErrorResponder.send(ctx, error);
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
      if (request.kind() == RequestKind.CHAT) {
        sse.event(format.roleChunk());
      }
    }
  }
}
