package io.switchboard.gateway.dialect.responses;

import io.switchboard.protocol.Usage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The response object written straight out is, byte for byte, its JSON tree as Vert.x's codec writes it. */
class ResponseObjectTest {

  /** Characters that need escaping or several UTF-8 bytes, mixed with plain ones. */
  private static String randomText(Random random) {
    String pool = "ab \"\\/\b\t\n\f\r\u0000\u0001\u001f\u007f é日本\u2028";
    StringBuilder text = new StringBuilder();
    for (int i = random.nextInt(20); i > 0; i--) {
      if (random.nextInt(8) == 0) {
        text.appendCodePoint(0x1F300 + random.nextInt(200)); // astral: a surrogate pair
      } else {
        text.append(pool.charAt(random.nextInt(pool.length())));
      }
    }
    return text.toString();
  }

  /** A valid Responses request with a random choice of the fields the response object echoes. */
  private static JsonObject randomRequest(Random random) {
    JsonObject body = new JsonObject().put("model", "m-" + randomText(random)).put("input", randomText(random));
    if (random.nextBoolean()) {
      body.put("instructions", randomText(random));
    }
    if (random.nextBoolean()) {
      body.put("max_output_tokens", 1 + random.nextInt(100_000));
    }
    if (random.nextBoolean()) {
      body.put("temperature", random.nextBoolean() ? 1 : Math.round(random.nextDouble() * 200) / 100.0);
    }
    if (random.nextBoolean()) {
      body.put("top_p", random.nextBoolean() ? 0.95 : 1);
    }
    if (random.nextBoolean()) {
      body.put("parallel_tool_calls", random.nextBoolean());
    }
    if (random.nextBoolean()) {
      body.put("previous_response_id", "resp_" + randomText(random));
    }
    if (random.nextBoolean()) {
      body.put("store", random.nextBoolean());
    }
    if (random.nextBoolean()) {
      body.put("user", randomText(random));
    }
    if (random.nextBoolean()) {
      body.put("metadata", new JsonObject().put("k" + random.nextInt(10), randomText(random)));
    }
    if (random.nextBoolean()) {
      body.put("reasoning", new JsonObject().put("effort", "low"));
    }
    if (random.nextBoolean()) {
      body.put("text", new JsonObject().put("format", random.nextBoolean() ? new JsonObject().put("type", "text")
          : new JsonObject().put("type", "json_schema").put("name", randomText(random))
              .put("schema", new JsonObject().put("type", "object").put("required", new JsonArray().add("a")))));
    }
    if (random.nextBoolean()) {
      body.put("tools", new JsonArray().add(new JsonObject().put("type", "function").put("name", "f" + randomText(random))
          .put("description", randomText(random)).put("parameters", new JsonObject().put("type", "object"))));
      body.put("tool_choice", random.nextBoolean() ? "required"
          : new JsonObject().put("type", "function").put("name", "f"));
    }
    return body;
  }

  @Test
  void theResponseObjectWrittenStraightOutIsByteForByteTheEncodedTree() {
    Random random = new Random(20261206);
    for (int i = 0; i < 2_000; i++) {
      ResponsesRequest request = ResponsesRequest.read(randomRequest(random));
      ResponseObject shape = new ResponseObject("resp_" + Integer.toHexString(random.nextInt()), request);
      ResponseOutput output = new ResponseOutput("resp_x", null);
      for (int p = random.nextInt(3); p > 0; p--) {
        output.add(randomText(random), null);
      }
      output.finish(random.nextBoolean() ? "completed" : "incomplete");
      JsonArray items = random.nextInt(4) == 0 ? new JsonArray() : output.items();
      String status = new String[] {"in_progress", "completed", "incomplete", "failed"}[random.nextInt(4)];
      Usage usage = random.nextBoolean() ? null
          : new Usage(random.nextInt(5000), random.nextInt(5000), random.nextBoolean() ? 0 : 7);
      JsonObject error = random.nextInt(4) == 0
          ? new JsonObject().put("code", "worker_failed").put("message", randomText(random)) : null;
      String reason = new String[] {null, "max_output_tokens", "content_filter"}[random.nextInt(3)];

      JsonObject tree = shape.build(status, items, usage, error);
      if (reason != null) {
        tree.put("incomplete_details", new JsonObject().put("reason", reason));
      }
      String written = shape.json(status, items, usage, error, reason);
      assertThat(written).as("JsonText writes every value of a request read from JSON").isNotNull();
      assertThat(written.getBytes(StandardCharsets.UTF_8)).as(tree.encode()).isEqualTo(tree.toBuffer().getBytes());
    }
  }
}
