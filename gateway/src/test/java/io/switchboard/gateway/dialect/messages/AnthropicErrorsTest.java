package io.switchboard.gateway.dialect.messages;

import io.switchboard.gateway.http.ApiError;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class AnthropicErrorsTest {

  @Test
  void statusesMapToAnthropicsErrorTypes() {
    Map<Integer, String> expected = Map.ofEntries(Map.entry(400, "invalid_request_error"),
        Map.entry(401, "authentication_error"), Map.entry(402, "billing_error"), Map.entry(403, "permission_error"),
        Map.entry(404, "not_found_error"), Map.entry(405, "invalid_request_error"),
        Map.entry(413, "request_too_large"), Map.entry(429, "rate_limit_error"), Map.entry(499, "invalid_request_error"),
        Map.entry(500, "api_error"), Map.entry(502, "api_error"), Map.entry(503, "overloaded_error"),
        Map.entry(529, "overloaded_error"), Map.entry(504, "timeout_error"));
    expected.forEach((status, type) -> assertThat(AnthropicErrors.type(status)).as("%s", status).isEqualTo(type));
  }

  @Test
  void theBodyIsAnthropicsShapeWithTheGatewaysMessage() {
    ApiError error = new ApiError(404, "invalid_request_error", "model_not_found", "model",
        "The model 'x' does not exist (request r-1).");
    JsonObject body = new JsonObject(AnthropicErrors.INSTANCE.body(error));
    assertThat(body).isEqualTo(new JsonObject().put("type", "error").put("error", new JsonObject()
        .put("type", "not_found_error").put("message", "The model 'x' does not exist (request r-1).")));
  }

  @Test
  void aStreamsErrorEventIsOverloadedOrApiError() {
    assertThat(AnthropicErrors.streamEvent(new ApiError(503, "service_unavailable_error", "c", null, "busy"))
        .getJsonObject("error").getString("type")).isEqualTo("overloaded_error");
    JsonObject failed = AnthropicErrors.streamEvent(new ApiError(502, "upstream_error", "worker_failed", null,
        "worker w-1 failed"));
    assertThat(failed).isEqualTo(new JsonObject().put("type", "error").put("error", new JsonObject()
        .put("type", "api_error").put("message", "worker w-1 failed")));
    assertThat(AnthropicErrors.streamEvent(new ApiError(504, "timeout_error", "timeout", null, "late"))
        .getJsonObject("error").getString("type")).isEqualTo("api_error");
  }
}
