package io.switchboard.gateway.dialect.responses;

import io.switchboard.gateway.dialect.responses.store.ResponseStore;
import io.switchboard.gateway.exchange.AnswerWriter;
import io.switchboard.gateway.exchange.SseWriter;
import io.switchboard.gateway.http.ApiError;
import io.switchboard.gateway.http.ErrorResponder;
import io.switchboard.protocol.Usage;
import io.switchboard.runtime.json.JsonText;
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
  /** Room for the events of a stream's head beside its two response objects and its first piece's text. */
  private static final int HEAD_CHARS = 1024;
  /** Room for the events of a stream's end beside the response object and the text they repeat. */
  private static final int TAIL_CHARS = 2048;
  /** Room for the events of one piece of a stream beside its text. */
  private static final int PIECE_CHARS = 256;

  private final RoutingContext ctx;
  private final HttpServerResponse response;
  private final String requestId;
  private final ResponsesRequest source;
  /** The conversation a chained request starts from (this request's own copy); null when nothing is stored. */
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
    this.output = new ResponseOutput(responseId, source.stream ? new StreamEvents() : null);
  }

  @Override
  public void delta(String text, JsonObject extra) {
    if (!source.stream) {
      output.add(text, extra);
      return;
    }
    // A piece's events (with the stream's head, its item and part for the first) go out in one write.
    if (!begin(text.length())) {
      sse.hold(PIECE_CHARS + 2 * text.length());
    }
    output.add(text, extra);
    sse.release();
  }

  @Override
  public void servedBy(String model) {
    shape.servedBy(model);
  }

  @Override
  public Future<Void> complete(String finishReason, Usage usage, JsonObject wholeAnswer) {
    boolean incomplete = "length".equals(finishReason) || "content_filter".equals(finishReason);
    String status = incomplete ? "incomplete" : "completed";
    String reason = !incomplete ? null : "length".equals(finishReason) ? "max_output_tokens" : "content_filter";
    if (source.stream && !begin(0)) {
      // The closing events repeat the answer: its text done, its part done, its item done, the response.
      sse.hold(TAIL_CHARS + 5 * output.chars());
    }
    output.finish(status);
    if (!source.store) {
      // Nothing to store: no tree is needed, the response is written straight out.
      if (!source.stream) {
        String written = shape.json(status, output.itemsShared(), usage, null, reason);
        if (written != null) {
          return response.putHeader(HttpHeaders.CONTENT_TYPE, APPLICATION_JSON).end(Buffer.buffer(written));
        }
      } else {
        StringBuilder event = startEvent(incomplete ? "response.incomplete" : "response.completed")
            .append(",\"response\":");
        if (shape.write(event, status, output.itemsShared(), usage, null, reason)) {
          event.append('}');
          sse.endEvent();
          return sse.end();
        }
        sse.dropEvent();
        sequence--;
      }
    }
    JsonObject body = shape.build(status, output.items(), usage, null);
    if (incomplete) {
      body.put("incomplete_details", new JsonObject().put("reason", reason));
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
    if (!headSent && !sse.headWritten()) {
      return ErrorResponder.send(ctx, error);
    }
    JsonObject body = shape.build("failed", output.items(), null,
        new JsonObject().put("code", error.code()).put("message", error.getMessage()));
    emit("response.failed", new JsonObject().put("response", body));
    return sse.end();
  }

  @Override
  public boolean keepAlive(String comment) {
    if (!source.stream || headSent) {
      return false;
    }
    sse.keepAlive(requestId, comment);
    return true;
  }

  @Override
  public boolean started() {
    return headSent;
  }

  /**
   * Sends the head of a stream, with response.created and response.in_progress, held to go out with what follows
   * (about {@code more} characters of text); false when it was sent before.
   */
  private boolean begin(int more) {
    if (headSent) {
      return false;
    }
    headSent = true;
    sse.begin(requestId);
    String written = shape.json("in_progress", new JsonArray(), null, null, null);
    if (written != null) {
      sse.hold(2 * written.length() + HEAD_CHARS + 2 * more);
      emitResponse("response.created", written);
      emitResponse("response.in_progress", written);
      return true;
    }
    sse.hold(2 * HEAD_CHARS + 2 * more);
    JsonObject inProgress = shape.build("in_progress", new JsonArray(), null, null);
    emit("response.created", new JsonObject().put("response", inProgress));
    emit("response.in_progress", new JsonObject().put("response", inProgress));
    return true;
  }

  /**
   * Starts an event in the stream: {@code {"type":TYPE,"sequence_number":N}, the closing brace left for the
   * event's fields. The type is one of this class's and {@link ResponseOutput}'s names, which need no escaping.
   */
  private StringBuilder startEvent(String type) {
    return sse.startEvent(type).append("{\"type\":\"").append(type).append("\",\"sequence_number\":")
        .append(sequence++);
  }

  /** An event of the response object as {@link ResponseObject#json} wrote it. */
  private void emitResponse(String type, String responseJson) {
    startEvent(type).append(",\"response\":").append(responseJson).append('}');
    sse.endEvent();
  }

  /** An event whose fields are a tree (the response object, when it is not written straight out). */
  private void emit(String type, JsonObject fields) {
    JsonObject event = new JsonObject().put("type", type).put("sequence_number", sequence++);
    fields.forEach(field -> event.put(field.getKey(), field.getValue()));
    sse.event(type, event);
  }

  /** Where {@link ResponseOutput} writes its events: straight into the stream. */
  private final class StreamEvents implements ResponseOutput.Events {
    private StringBuilder event;

    @Override
    public StringBuilder start(String type) {
      return event = startEvent(type);
    }

    @Override
    public void end() {
      event.append('}');
      event = null;
      sse.endEvent();
    }
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
        .put("messages", conversation.add(output.assistantMessage()))
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
