package io.switchboard.gateway.http;

import io.vertx.core.json.JsonObject;

/**
 * An error as the client sees it: an HTTP status and OpenAI's error object
 * {@code {"error":{"message","type","param","code"}}}. Every message says what was wrong and how to fix it.
 */
public final class ApiError extends RuntimeException {

  private final int status;
  private final String type;
  private final String param;
  private final String code;

  public ApiError(int status, String type, String code, String param, String message) {
    super(message, null, false, false);
    this.status = status;
    this.type = type;
    this.code = code;
    this.param = param;
  }

  public static ApiError invalid(String param, String message) {
    return new ApiError(400, "invalid_request_error", "invalid_value", param, message);
  }

  public static ApiError missing(String param, String message) {
    return new ApiError(400, "invalid_request_error", "missing_required_parameter", param, message);
  }

  public static ApiError invalidType(String param, String expected) {
    return new ApiError(400, "invalid_request_error", "invalid_type", param,
        "'" + param + "' must be " + expected + ".");
  }

  public int status() {
    return status;
  }

  public String type() {
    return type;
  }

  public String param() {
    return param;
  }

  public String code() {
    return code;
  }

  public JsonObject toJson() {
    return new JsonObject().put("error", new JsonObject()
        .put("message", getMessage())
        .put("type", type)
        .put("param", param)
        .put("code", code));
  }
}
