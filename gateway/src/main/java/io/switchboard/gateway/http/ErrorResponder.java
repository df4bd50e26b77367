package io.switchboard.gateway.http;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The one place that turns a failed route into an HTTP answer: an {@link ApiError} as it is, a body over the
 * limit as 413, an unknown path as 404, anything unexpected as a 500 that names the component and the request
 * id and nothing more (the exception, which may say anything about the gateway's insides, is logged with its stack
 * under that id). Never an HTML page; never a status after the head went out. A path is repeated only in part
 * ({@link ClientText}).
 */
public final class ErrorResponder implements Handler<RoutingContext> {

  private static final Logger log = LoggerFactory.getLogger(ErrorResponder.class);

  private final long maxBodyBytes;

  public ErrorResponder(long maxBodyBytes) {
    this.maxBodyBytes = maxBodyBytes;
  }

  @Override
  public void handle(RoutingContext ctx) {
    send(ctx, toApiError(ctx));
  }

  private ApiError toApiError(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    if (failure instanceof ApiError apiError) {
      return apiError;
    }
    String method = ctx.request().method().name();
    String path = ClientText.shown(ctx.request().path());
    int status = ctx.statusCode();
    if (status == 413) {
      return new ApiError(413, "invalid_request_error", "request_too_large", null,
          "The request body is larger than this gateway accepts (" + maxBodyBytes + " bytes, "
              + "gateway.maxBodyBytes). Send a smaller body.");
    }
    if (status == 404) {
      return new ApiError(404, "invalid_request_error", "unknown_url", null,
          "Unknown request URL: " + method + " " + path + ". The API serves POST /v1/chat/completions, "
              + "POST /v1/completions, POST /v1/embeddings, POST /v1/responses, GET and DELETE /v1/responses/{id}, "
              + "POST /v1/messages, POST /v1/messages/count_tokens and GET /v1/models.");
    }
    if (status == 405) {
      return new ApiError(405, "invalid_request_error", "method_not_allowed", null,
          "Method " + method + " is not allowed on " + path + ".");
    }
    if (status >= 400 && status < 500 && failure == null) {
      return new ApiError(status, "invalid_request_error", "bad_request", null,
          "The request to " + method + " " + path + " could not be processed (HTTP " + status + ").");
    }
    String requestId = ctx.get(RequestIds.HEADER);
    if (requestId == null) {
      // Failed before an API handler named the request: name it now, so the client can quote it.
      requestId = RequestIds.of(ctx.request());
      ctx.put(RequestIds.HEADER, requestId);
      if (!ctx.response().headWritten()) {
        ctx.response().putHeader(RequestIds.HEADER_NAME, requestId);
      }
    }
    log.error("internal error while handling a request", kv("requestId", requestId), kv("method", method),
        kv("path", path), kv("status", status), kv("component", "gateway"), failure);
    return new ApiError(500, "server_error", "internal_error", null,
        "Internal error in the gateway while handling " + method + " " + path + " (request " + requestId
            + "). This is a bug; the gateway's log holds the details under this request id.");
  }

  /** Header the OpenAI and Anthropic SDKs (and Claude Code) obey before their own retry rules. */
  static final String SHOULD_RETRY = "x-should-retry";

  /**
   * Whether the same request may succeed if sent again, for clients that retry on their own: not a request the
   * client must change (a bad body or key, a model or path that is not served, a body too large); yes for a rate
   * limit or an overloaded gateway, after Retry-After; left to the client otherwise. Without it Claude Code retried a
   * 401 for three minutes.
   */
  static String shouldRetry(int status) {
    return switch (status) {
      case 400, 401, 403, 404, 405, 413, 422 -> "false";
      case 429, 503 -> "true";
      default -> null;
    };
  }

  /**
   * Sends {@code error} in the request's {@link ErrorShape} (OpenAI's unless its route installed another), if the
   * response can still take a status.
   *
   * @return completes when the last byte went to the connection
   */
  public static Future<Void> send(RoutingContext ctx, ApiError error) {
    var response = ctx.response();
    if (response.headWritten()) {
      if (!response.ended()) {
        response.reset();
      }
      return Future.succeededFuture();
    }
    if (error.status() == 503 && response.headers().get("retry-after") == null) {
      response.putHeader("retry-after", "1");
    }
    String retry = shouldRetry(error.status());
    if (retry != null) {
      response.putHeader(SHOULD_RETRY, retry);
    }
    return response.setStatusCode(error.status())
        .putHeader("content-type", "application/json")
        .end(ErrorShape.of(ctx).body(error));
  }
}
