package io.switchboard.gateway.dialect.responses;

import io.switchboard.gateway.api.ApiError;
import io.switchboard.gateway.api.ErrorResponder;
import io.switchboard.gateway.exchange.AnswerWriter;
import io.switchboard.gateway.exchange.SseWriter;
import io.switchboard.protocol.JsonText;
import io.switchboard.protocol.Usage;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * A Responses API answer: one {@code response} object, or Server-Sent Events with {@code event:} names and a
 * {@code sequence_number} on each, in OpenAI's order (created, in_progress, each output item added, its deltas, done,
 * then completed, or incomplete when the answer hit {@code max_output_tokens}). A failure after the head went out is
 * a {@code response.failed} event that ends the stream. A finished response is stored (unless {@code store: false})
 * before the client learns it finished, so a chained request that follows at once finds it.
 */
final class ResponsesAnswerWriter implements AnswerWriter {

  private static final Logger log = LoggerFactory.getLogger(ResponsesAnswerWriter.class);
  private static final CharSequence APPLICATION_JSON = HttpHeaders.createOptimized("application/json");
  /** Room for the events of a stream's first piece or its end: each carries a whole response object or two. */
  private static final int HEAD_CHARS = 4096;

  private final RoutingContext ctx;
  private final HttpServerResponse response;
  private final String requestId;
  private final ResponsesRequest source;
  private final JsonArray conversation;
  private final ResponseStore store;
  private final String owner;
  private final Context context;
  private final ResponseOutput output;
  private final ResponseObject shape;
  private final SseWriter sse;
  private int sequence;
  private boolean headSent;

  ResponsesAnswerWriter(RoutingContext ctx, String requestId, String responseId,
                        ResponsesRequest source, JsonArray conversation, ResponseStore store, String owner) {
    this.ctx = ctx;
    this.response = ctx.response();
    this.requestId = requestId;
    this.source = source;
    this.conversation = conversation;
    this.store = store;
    this.owner = owner;
    this.context = Vertx.currentContext();
    this.sse = new SseWriter(response);
    this.shape = new ResponseObject(responseId, source);
    this.output = new ResponseOutput(responseId, source.stream ? this::emit : null);
  }

  @Override
  public void delta(String text, JsonObject extra) {
    // A piece's events (with the stream's head, its item and part for the first) go out in one write.
    sse.hold(headSent ? 512 : HEAD_CHARS);
    begin();
    output.add(text, extra);
    sse.release();
  }

  @Override
  public void servedBy(String model) {
    shape.servedBy(model);
  }

  @Override
  public Future<Void> complete(String finishReason, Usage usage, JsonObject wholeAnswer) {
    sse.hold(HEAD_CHARS);
    begin();
    boolean incomplete = "length".equals(finishReason) || "content_filter".equals(finishReason);
    output.finish(incomplete ? "incomplete" : "completed");
    String status = incomplete ? "incomplete" : "completed";
    String written = source.store ? null : shape.json(status, output.itemsShared(), usage, null,
        !incomplete ? null : "length".equals(finishReason) ? "max_output_tokens" : "content_filter");
    if (written != null) {
      // Nothing to store: no tree is needed, the response is written straight out.
      if (!source.stream) {
        return response.putHeader(HttpHeaders.CONTENT_TYPE, APPLICATION_JSON).end(Buffer.buffer(written));
      }
      emitResponse(incomplete ? "response.incomplete" : "response.completed", written);
      return sse.end();
    }
    JsonObject body = shape.build(incomplete ? "incomplete" : "completed", output.items(), usage, null);
    if (incomplete) {
      body.put("incomplete_details", new JsonObject().put("reason",
          "length".equals(finishReason) ? "max_output_tokens" : "content_filter"));
    }
    if (source.store) {
      // The items' done events need not wait for the store; only the completed event does.
      sse.release();
    }
    return stored(body).compose(v -> {
      if (!source.stream) {
        return response.putHeader(HttpHeaders.CONTENT_TYPE, APPLICATION_JSON).end(JsonText.toBuffer(body));
      }
      emit(incomplete ? "response.incomplete" : "response.completed", new JsonObject().put("response", body));
      return sse.end();
    });
  }

  @Override
  public Future<Void> failed(ApiError error) {
    if (!headSent) {
      return ErrorResponder.send(ctx, error);
    }
    JsonObject body = shape.build("failed", output.items(), null,
        new JsonObject().put("code", error.code()).put("message", error.getMessage()));
    emit("response.failed", new JsonObject().put("response", body));
    return sse.end();
  }

  @Override
  public boolean started() {
    return headSent;
  }

  /** The head of a stream, with response.created and response.in_progress; nothing for a whole answer. */
  private void begin() {
    if (headSent || !source.stream) {
      return;
    }
    headSent = true;
    sse.begin(requestId);
    String written = shape.json("in_progress", new JsonArray(), null, null, null);
    if (written != null) {
      emitResponse("response.created", written);
      emitResponse("response.in_progress", written);
      return;
    }
    JsonObject inProgress = shape.build("in_progress", new JsonArray(), null, null);
    emit("response.created", new JsonObject().put("response", inProgress));
    emit("response.in_progress", new JsonObject().put("response", inProgress));
  }

  /** An event of the response object as {@link ResponseObject#json} wrote it: the bytes {@link #emit} would write. */
  private void emitResponse(String type, String responseJson) {
    StringBuilder event = new StringBuilder(responseJson.length() + 80);
    JsonText.escapedString(event.append("{\"type\":"), type).append(",\"sequence_number\":").append(sequence++);
    sse.event(type, event.append(",\"response\":").append(responseJson).append('}'));
  }

  private void emit(String type, JsonObject fields) {
    JsonObject event = new JsonObject().put("type", type).put("sequence_number", sequence++);
    fields.forEach(field -> event.put(field.getKey(), field.getValue()));
    sse.event(type, event);
  }

  /**
   * Stores the finished response, when asked to; the answer goes out once that is done (on this request's event
   * loop). A store that fails is logged: the client still gets its answer, and a later chained request a 404.
   */
  private Future<Void> stored(JsonObject body) {
    if (!source.store) {
      return Future.succeededFuture();
    }
    JsonObject record = new JsonObject().put("response", body.copy())
        .put("messages", conversation.copy().add(output.assistantMessage()))
        .put("owner", owner);
    Promise<Void> stored = Promise.promise();
    store.put(body.getString("id"), record).onComplete(put -> ResponsesDialect.onContext(context, () -> {
      if (put.failed()) {
        log.warn("response not stored; a request chained to it will get 404", kv("requestId", requestId),
            kv("responseId", body.getString("id")), kv("reason", String.valueOf(put.cause().getMessage())));
      }
      stored.complete();
    }));
    return stored.future();
  }
}
