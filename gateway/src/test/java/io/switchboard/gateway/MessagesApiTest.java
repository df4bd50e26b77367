package io.switchboard.gateway;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.gateway.cluster.ClusterView;
import io.switchboard.gateway.config.GatewayOptions;
import io.switchboard.protocol.Addresses;
import io.switchboard.testsupport.Eventually;
import io.switchboard.worker.WorkerOptions;
import io.switchboard.worker.WorkerVerticle;
import io.switchboard.worker.mocker.MockerOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;

import static java.time.Duration.ofSeconds;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Anthropic's Messages API end to end: a gateway with API keys and mocker workers, spoken to as Anthropic's SDKs
 * speak (x-api-key, anthropic-version): whole and streamed messages, count_tokens, and every error in Anthropic's
 * shape (unknown model, missing max_tokens, bad key, rate limit, unknown path, a worker lost mid-stream).
 */
@ExtendWith(VertxExtension.class)
class MessagesApiTest {

  private static final String ALPHA = "sk-test-alpha-0001";
  private static final String BETA = "sk-test-beta-0002";
  private static final String GAMMA = "sk-test-gamma-0003";
  private static Vertx vertx;
  private static int port;
  private static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    MessagesApiTest.vertx = vertx;
    MockerOptions instant = new MockerOptions().setPrefillTokensPerSecond(0).setDecodeTokensPerSecond(0);
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("msg-1").setModel("mock-llm")
        .setMocker(instant), "node-w")).await(30, SECONDS);
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("other-1").setModel("other-llm")
        .setMocker(instant), "node-w")).await(30, SECONDS);
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("vanish-1").setModel("vanish-llm")
        .setDrainTimeoutMs(1000).setMocker(new MockerOptions().setDecodeTokensPerSecond(40)), "node-vanish"))
        .await(30, SECONDS);
    GatewayVerticle gateway = new GatewayVerticle(new GatewayOptions().setHttpPort(0).setRegistryResyncMs(300)
        .setMaxBodyBytes(64 * 1024).setCircuitFailureThreshold(1)
        .setApiKeys(List.of(ALPHA + ";name=alpha", BETA + ";name=beta;models=other-llm", GAMMA + ";name=gamma;rpm=1")),
        ClusterView.standalone("node-g"), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    vertx.deployVerticle(gateway).await(30, SECONDS);
    port = gateway.actualPort();
    for (String model : List.of("mock-llm", "other-llm", "vanish-llm")) {
      Eventually.read(ofSeconds(10), model + " becomes routable", () -> post("/v1/messages", "{\"model\":\"" + model
          + "\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":\"up?\"}]}", ALPHA),
          answer -> answer.statusCode() == 200);
    }
  }

  private static String url(String path) {
    return "http://127.0.0.1:" + port + path;
  }

  private static HttpRequest.Builder request(String path, String body, String key) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url(path)))
        .header("content-type", "application/json").header("anthropic-version", "2023-06-01")
        .header("anthropic-beta", "prompt-caching-2024-07-31")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (key != null) {
      request.header("x-api-key", key);
    }
    return request;
  }

  private static HttpResponse<String> post(String path, String body, String key) throws Exception {
    return http.send(request(path, body, key).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String hello(String model, String more) {
    return "{\"model\":\"" + model + "\",\"max_tokens\":5,\"system\":\"be brief\",\"messages\":[{\"role\":\"user\","
        + "\"content\":[{\"type\":\"text\",\"text\":\"hello there\"}]}]" + more + "}";
  }

  /** Asserts Anthropic's error shape and returns the error object. */
  private static JsonObject anthropicError(HttpResponse<String> response, int status, String type) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    assertThat(response.headers().firstValue("content-type")).contains("application/json");
    JsonObject body = new JsonObject(response.body());
    assertThat(body.getString("type")).isEqualTo("error");
    assertThat(body.fieldNames()).containsExactlyInAnyOrder("type", "error");
    JsonObject error = body.getJsonObject("error");
    assertThat(error.getString("type")).isEqualTo(type);
    assertThat(error.getString("message")).isNotBlank();
    return error;
  }

  /** The events of an SSE body: {name, data}. */
  private static List<String[]> events(Stream<String> lines) {
    List<String[]> events = new ArrayList<>();
    String name = null;
    for (Iterator<String> it = lines.iterator(); it.hasNext(); ) {
      String line = it.next();
      if (line.startsWith("event: ")) {
        name = line.substring(7);
      } else if (line.startsWith("data: ")) {
        events.add(new String[] {name, line.substring(6)});
        name = null;
      }
    }
    return events;
  }

  @Test
  void aWholeMessageWithUsage() throws Exception {
    HttpResponse<String> response = http.send(request("/v1/messages", hello("mock-llm", ""), ALPHA)
        .header("x-request-id", "req-msg-1").build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    JsonObject message = new JsonObject(response.body());
    assertThat(message.getString("id")).isEqualTo("msg_req-msg-1");
    assertThat(message.getString("type")).isEqualTo("message");
    assertThat(message.getString("role")).isEqualTo("assistant");
    assertThat(message.getString("model")).isEqualTo("mock-llm");
    assertThat(message.getJsonArray("content")).hasSize(1);
    JsonObject text = message.getJsonArray("content").getJsonObject(0);
    assertThat(text.getString("type")).isEqualTo("text");
    assertThat(text.getString("text").split(" ")).hasSize(5);
    assertThat(message.getString("stop_reason")).isEqualTo("max_tokens");
    assertThat(message.containsKey("stop_sequence")).isTrue();
    JsonObject usage = message.getJsonObject("usage");
    assertThat(usage.getInteger("output_tokens")).isEqualTo(5);
    assertThat(usage.getInteger("input_tokens") + usage.getInteger("cache_read_input_tokens")).isPositive();
  }

  @Test
  void aStreamedMessageSendsAnthropicsEventsInOrder() throws Exception {
    HttpResponse<Stream<String>> response = http.send(request("/v1/messages",
        hello("mock-llm", ",\"stream\":true"), ALPHA).build(), HttpResponse.BodyHandlers.ofLines());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(
        type -> assertThat(type).startsWith("text/event-stream"));
    List<String[]> events = events(response.body());
    List<String> names = events.stream().map(e -> e[0]).toList();
    assertThat(names.subList(0, 3)).containsExactly("message_start", "content_block_start", "ping");
    assertThat(names.subList(3, names.size() - 3)).hasSize(5).containsOnly("content_block_delta");
    assertThat(names.subList(names.size() - 3, names.size()))
        .containsExactly("content_block_stop", "message_delta", "message_stop");
    for (String[] event : events) {
      assertThat(new JsonObject(event[1]).getString("type")).as("data.type names the event").isEqualTo(event[0]);
    }
    StringBuilder text = new StringBuilder();
    events.stream().filter(e -> e[0].equals("content_block_delta")).map(e -> new JsonObject(e[1]))
        .forEach(delta -> text.append(delta.getJsonObject("delta").getString("text")));
    assertThat(text.toString().split(" ")).hasSize(5);
    JsonObject last = new JsonObject(events.get(events.size() - 2)[1]);
    assertThat(last.getJsonObject("delta").getString("stop_reason")).isEqualTo("max_tokens");
    assertThat(last.getJsonObject("usage").getInteger("output_tokens")).isEqualTo(5);
  }

  @Test
  void anUnknownModelIsA404NotFoundError() throws Exception {
    JsonObject error = anthropicError(post("/v1/messages", hello("no-such-llm", ""), ALPHA), 404, "not_found_error");
    assertThat(error.getString("message")).contains("no-such-llm").contains("mock-llm");
    anthropicError(post("/v1/messages/count_tokens", hello("no-such-llm", ""), ALPHA), 404, "not_found_error");
  }

  @Test
  void aMissingMaxTokensIsA400SayingHowToFixIt() throws Exception {
    JsonObject error = anthropicError(post("/v1/messages", "{\"model\":\"mock-llm\",\"messages\":[{\"role\":\"user\","
        + "\"content\":\"hi\"}]}", ALPHA), 400, "invalid_request_error");
    assertThat(error.getString("message")).startsWith("max_tokens: Field required").contains("\"max_tokens\": 1024");
    anthropicError(post("/v1/messages", "{not json", ALPHA), 400, "invalid_request_error");
    assertThat(anthropicError(post("/v1/messages", hello("mock-llm", ",\"temperature\":1.5"), ALPHA), 400,
        "invalid_request_error").getString("message")).contains("between 0 and 1");
  }

  @Test
  void theKeyComesAsXApiKeyOrBearerAndABadOneIsAnAuthenticationError() throws Exception {
    assertThat(post("/v1/messages", hello("mock-llm", ""), ALPHA).statusCode()).isEqualTo(200);
    HttpResponse<String> bearer = http.send(request("/v1/messages", hello("mock-llm", ""), null)
        .header("authorization", "Bearer " + ALPHA).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(bearer.statusCode()).isEqualTo(200);
    JsonObject wrong = anthropicError(post("/v1/messages", hello("mock-llm", ""), "sk-test-alpha-9999"), 401,
        "authentication_error");
    assertThat(wrong.getString("message")).contains("sk-***99").doesNotContain("sk-test-alpha-9999");
    JsonObject none = anthropicError(post("/v1/messages", hello("mock-llm", ""), null), 401, "authentication_error");
    assertThat(none.getString("message")).contains("x-api-key").contains("Authorization: Bearer");
    // The OpenAI routes take x-api-key too, and keep their shape.
    HttpResponse<String> chat = post("/v1/chat/completions", "{\"model\":\"mock-llm\",\"max_tokens\":2,"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", ALPHA);
    assertThat(chat.statusCode()).isEqualTo(200);
    HttpResponse<String> chatWrong = post("/v1/chat/completions", "{}", "nope-nope-nope");
    assertThat(new JsonObject(chatWrong.body()).getJsonObject("error").getString("code")).isEqualTo("invalid_api_key");
  }

  @Test
  void aKeysModelRestrictionIsAPermissionError() throws Exception {
    anthropicError(post("/v1/messages", hello("mock-llm", ""), BETA), 403, "permission_error");
    anthropicError(post("/v1/messages/count_tokens", hello("mock-llm", ""), BETA), 403, "permission_error");
    assertThat(post("/v1/messages", hello("other-llm", ""), BETA).statusCode()).isEqualTo(200);
  }

  @Test
  void aRateLimitedKeyGetsARateLimitError() throws Exception {
    HttpResponse<String> limited = null;
    for (int i = 0; i < 3 && (limited == null || limited.statusCode() == 200); i++) {
      limited = post("/v1/messages", hello("mock-llm", ""), GAMMA);
    }
    JsonObject error = anthropicError(limited, 429, "rate_limit_error");
    assertThat(error.getString("message")).contains("'gamma'");
    assertThat(limited.headers().firstValue("retry-after")).isPresent();
  }

  @Test
  void countTokensEstimatesTheInput() throws Exception {
    HttpResponse<String> small = post("/v1/messages/count_tokens", "{\"model\":\"mock-llm\",\"messages\":[{\"role\":"
        + "\"user\",\"content\":\"hello there\"}]}", ALPHA);
    assertThat(small.statusCode()).as(small.body()).isEqualTo(200);
    assertThat(small.headers().firstValue("x-switchboard-token-count")).contains("estimate");
    int smallCount = new JsonObject(small.body()).getInteger("input_tokens");
    assertThat(new JsonObject(small.body()).fieldNames()).containsExactly("input_tokens");
    assertThat(smallCount).isPositive();
    HttpResponse<String> withTools = post("/v1/messages/count_tokens", "{\"model\":\"mock-llm\",\"system\":\"You are "
        + "a careful assistant.\",\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}],\"tools\":[{\"name\":"
        + "\"weather\",\"description\":\"Current weather in a city\",\"input_schema\":{\"type\":\"object\","
        + "\"properties\":{\"city\":{\"type\":\"string\"}}}}]}", ALPHA);
    assertThat(new JsonObject(withTools.body()).getInteger("input_tokens")).isGreaterThan(smallCount + 10);
    anthropicError(post("/v1/messages/count_tokens", "{\"model\":\"mock-llm\"}", ALPHA), 400,
        "invalid_request_error");
  }

  @Test
  void anUnknownPathUnderMessagesIsANotFoundErrorInAnthropicsShape() throws Exception {
    JsonObject error = anthropicError(post("/v1/messages/batches", "{}", ALPHA), 404, "not_found_error");
    assertThat(error.getString("message")).contains("POST /v1/messages");
  }

  @Test
  void aBodyOverTheLimitIsRequestTooLarge() throws Exception {
    String big = hello("mock-llm", ",\"metadata\":{\"pad\":\"" + "x".repeat(70 * 1024) + "\"}");
    anthropicError(post("/v1/messages", big, ALPHA), 413, "request_too_large");
  }

  @Test
  void aWorkerLostMidStreamEndsTheStreamWithAnErrorEvent() throws Exception {
    HttpResponse<Stream<String>> response = http.send(request("/v1/messages", "{\"model\":\"vanish-llm\","
        + "\"max_tokens\":2000,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"cut\"}]}", ALPHA).build(),
        HttpResponse.BodyHandlers.ofLines());
    assertThat(response.statusCode()).isEqualTo(200);
    Iterator<String> lines = response.body().iterator();
    List<String> seen = new ArrayList<>();
    while (lines.hasNext()) {
      String line = lines.next();
      seen.add(line);
      if (line.equals("event: content_block_delta")) {
        break;
      }
    }
    vertx.eventBus().publish(Addresses.MEMBER_LEFT_LOCAL, "node-vanish");
    List<String> rest = new ArrayList<>();
    lines.forEachRemaining(rest::add);
    List<String[]> events = events(rest.stream());
    String[] last = events.get(events.size() - 1);
    assertThat(last[0]).isEqualTo("error");
    JsonObject error = new JsonObject(last[1]);
    assertThat(error.getString("type")).isEqualTo("error");
    assertThat(error.getJsonObject("error").getString("type")).isEqualTo("api_error");
    assertThat(error.getJsonObject("error").getString("message")).contains("vanish-1").contains("left the cluster");
    assertThat(events.stream().map(e -> e[0])).doesNotContain("message_stop", "message_delta");
    assertThat(seen).contains("event: message_start");
  }
}
