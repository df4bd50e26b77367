package io.switchboard.gateway.dialect.messages;

import io.switchboard.gateway.http.ApiError;
import io.switchboard.gateway.http.ErrorShape;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * Errors as Anthropic's API shapes them, for everything under {@code /v1/messages}:
 * {@code {"type":"error","error":{"type":"not_found_error","message":"..."}}}. The status stays the gateway's; the
 * error's type comes from the status the way Anthropic maps them (its SDKs pick the exception class by the status:
 * 400 BadRequestError, 404 NotFoundError, ...). The message is the gateway's, which names the field, the worker and
 * the request id. OpenAI's {@code param} and {@code code} have no place in this shape and are left out.
 */
public final class AnthropicErrors implements ErrorShape {

  public static final AnthropicErrors INSTANCE = new AnthropicErrors();

  private AnthropicErrors() {
  }

  /**
   * Anthropic's error type for an HTTP status: 400 invalid_request_error, 401 authentication_error, 402
   * billing_error, 403 permission_error, 404 not_found_error, 413 request_too_large, 429 rate_limit_error, 500
   * api_error, 503 and 529 overloaded_error, 504 timeout_error; any other 4xx is invalid_request_error and any other
   * 5xx api_error.
   */
  public static String type(int status) {
    return switch (status) {
      case 400 -> "invalid_request_error";
      case 401 -> "authentication_error";
      case 402 -> "billing_error";
      case 403 -> "permission_error";
      case 404 -> "not_found_error";
      case 413 -> "request_too_large";
      case 429 -> "rate_limit_error";
      case 503, 529 -> "overloaded_error";
      case 504 -> "timeout_error";
      default -> status >= 400 && status < 500 ? "invalid_request_error" : "api_error";
    };
  }

  /** The error object, as a response body and as a stream's {@code error} event. */
  public static JsonObject toJson(ApiError error) {
    return new JsonObject().put("type", "error").put("error", new JsonObject()
        .put("type", type(error.status()))
        .put("message", error.getMessage()));
  }

  /**
   * The {@code error} event that ends a stream which failed after its head went out: Anthropic sends only
   * {@code overloaded_error} or {@code api_error} there (the status was 200 already).
   */
  public static JsonObject streamEvent(ApiError error) {
    String type = error.status() == 503 || error.status() == 529 ? "overloaded_error" : "api_error";
    return new JsonObject().put("type", "error").put("error", new JsonObject()
        .put("type", type)
        .put("message", error.getMessage()));
  }

  @Override
  public Buffer body(ApiError error) {
    return toJson(error).toBuffer();
  }
}
