package io.switchboard.gateway.dialect.responses;

import io.switchboard.gateway.api.CompletionRequest;
import io.switchboard.gateway.api.RequestValidator;
import io.switchboard.gateway.dialect.responses.store.ResponseStore;
import io.switchboard.gateway.exchange.AnswerWriter;
import io.switchboard.gateway.exchange.Dialect;
import io.switchboard.gateway.http.ApiError;
import io.switchboard.gateway.http.ClientText;
import io.switchboard.gateway.security.ApiKey;
import io.switchboard.gateway.security.ApiKeyAuth;
import io.switchboard.protocol.NativeForm;
import io.switchboard.protocol.RequestKind;
import io.switchboard.runtime.ids.RandomIds;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * OpenAI's Responses API, {@code POST /v1/responses}: the request is checked and translated into a chat body (what
 * workers speak), which then goes through the chat validator, so prompt, sampling and limits are the same as for
 * chat. A request chained with {@code previous_response_id} starts from the stored conversation of that response.
 */
public final class ResponsesDialect implements Dialect {

  private static final Pattern MESSAGE_PARAM = Pattern.compile("messages\\[(\\d+)]");

  private final RequestValidator validator;
  private final ResponseStore store;

  public ResponsesDialect(RequestValidator validator, ResponseStore store) {
    this.validator = validator;
    this.store = store;
  }

  @Override
  public String endpoint() {
    return "responses";
  }

  /** Response header listing the request's tools the model was not offered (hosted tools, tool groupings). */
  static final String TOOLS_LEFT_OUT_HEADER = "x-switchboard-tools-left-out";

  @Override
  public Future<Call> read(RoutingContext ctx) {
    ResponsesRequest request;
    try {
      request = ResponsesRequest.read(RequestValidator.parseObject(ctx.body().buffer()));
    } catch (ApiError invalid) {
      return Future.failedFuture(invalid);
    }
    if (!request.leftOutTools.isEmpty()) {
      // Said where the client can see it: the model was not offered these.
      ctx.response().putHeader(TOOLS_LEFT_OUT_HEADER, String.join(", ", request.leftOutTools));
    }
    String owner = owner(ctx);
    if (request.previousResponseId == null) {
      return call(ctx, request, null, owner);
    }
    Context context = Vertx.currentContext();
    Promise<Call> read = Promise.promise();
    store.get(request.previousResponseId).onComplete(got -> onContext(context, () -> {
      if (got.failed()) {
        read.fail(new ApiError(503, "service_unavailable_error", "response_store_unavailable",
            "previous_response_id", "The stored responses cannot be reached (" + got.cause().getMessage()
                + "), so the previous response cannot be read. Retry shortly, or send the whole conversation as "
                + "'input' without 'previous_response_id'."));
        return;
      }
      JsonObject stored = got.result();
      if (stored == null || !owner.equals(stored.getString("owner", owner))) {
        read.fail(previousNotFound(request.previousResponseId));
        return;
      }
      call(ctx, request, stored.getJsonArray("messages", new JsonArray()), owner).onComplete(read);
    }));
    return read.future();
  }

  /** Runs {@code action} on {@code context} (where the response may be written), now if already there. */
  static void onContext(Context context, Runnable action) {
    if (context == null || Vertx.currentContext() == context) {
      action.run();
    } else {
      context.runOnContext(v -> action.run());
    }
  }

  static String owner(RoutingContext ctx) {
    ApiKey key = ApiKeyAuth.of(ctx);
    return key == null ? "anonymous" : key.name();
  }

  static ApiError previousNotFound(String id) {
    return new ApiError(404, "invalid_request_error", "previous_response_not_found", "previous_response_id",
        "Previous response with id '" + ClientText.shown(id) + "' not found.");
  }

  private Future<Call> call(RoutingContext ctx, ResponsesRequest request, JsonArray prior, String owner) {
    CompletionRequest completion;
    try {
      completion = validator.validateWithTokenCeiling(request.chatBody(prior));
    } catch (ApiError invalid) {
      return Future.failedFuture(renamed(invalid, request, prior));
    }
    // Checked as sent, so an error names the item it came from; joined after.
    completion.body().put("messages", ResponsesRequest.leadingSystemMessagesJoined(
        completion.body().getJsonArray("messages")));
    // A worker whose backend serves /v1/responses gets the request as written: not a chained one (the backend does
    // not hold this cluster's stored responses) nor one whose tools the gateway had to leave out.
    CompletionRequest toRun = request.previousResponseId == null && request.leftOutTools.isEmpty()
        ? completion.withNative(NativeForm.RESPONSES, request.body) : completion;
    // What a chained request will start from; only a stored response needs it.
    JsonArray conversation = request.store ? request.conversation(prior) : null;
    // A random id, not the request id: a client picks its x-request-id, and could otherwise reach another's response.
    String responseId = "resp_" + RandomIds.next();
    return Future.succeededFuture(Call.of(toRun, requestId -> new ResponsesAnswerWriter(ctx, requestId, responseId,
        request, conversation, store, owner)));
  }

  /**
   * The chat validator's error about the translated body, in the Responses request's terms: {@code max_tokens} is
   * {@code max_output_tokens}, {@code messages[k]} the input item (or instructions, or the previous response) it
   * came from.
   */
  static ApiError renamed(ApiError error, ResponsesRequest request, JsonArray prior) {
    List<String> origins = new ArrayList<>();
    if (request.instructionsMessage != null) {
      origins.add("instructions");
    }
    for (int i = 0; prior != null && i < prior.size(); i++) {
      origins.add("previous_response_id");
    }
    origins.addAll(request.inputParams);
    String param = error.param();
    String message = error.getMessage();
    if (param != null) {
      if (param.equals("max_tokens")) {
        param = "max_output_tokens";
        message = message.replace("max_tokens", "max_output_tokens");
      } else if (param.equals("messages")) {
        param = "input";
        message = message.replace("'messages' holds", "The conversation holds").replace("'messages'", "'input'");
      } else {
        Matcher matcher = MESSAGE_PARAM.matcher(param);
        if (matcher.lookingAt()) {
          int index = Integer.parseInt(matcher.group(1));
          String origin = index < origins.size() ? origins.get(index) : "input";
          message = message.replace(matcher.group(), origin);
          // An item's field keeps its path (input[2].content); a string input, instructions or the stored turns do not.
          param = origin.startsWith("input[") ? origin + param.substring(matcher.end()) : origin;
        }
      }
    }
    return new ApiError(error.status(), error.type(), error.code(), param, message);
  }
}
