package io.switchboard.gateway.dialect.responses;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.gateway.GatewayVerticle;
import io.switchboard.gateway.cluster.ClusterView;
import io.switchboard.gateway.config.GatewayOptions;
import io.switchboard.gateway.dialect.responses.store.InProcessResponseStore;
import io.switchboard.gateway.dialect.responses.store.ResponseStore;
import io.switchboard.protocol.Addresses;
import io.switchboard.testsupport.Eventually;
import io.switchboard.worker.WorkerOptions;
import io.switchboard.worker.WorkerVerticle;
import io.switchboard.worker.mocker.MockerOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
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
 * {@code /v1/responses} end to end: a gateway with real mocker workers on one (unclustered) Vert.x, streamed and
 * not, chained with previous_response_id, looked up and deleted, and a worker lost mid-stream.
 */
@ExtendWith(VertxExtension.class)
class ResponsesApiTest {

  private static Vertx vertx;
  private static int port;
  private static final InProcessResponseStore store = new InProcessResponseStore();
  private static final HttpClient http = HttpClient.newHttpClient();

  /** One stream event: its {@code event:} name and its data. */
  record Event(String name, JsonObject data) {
  }

  /** The mocker answers 5 to 20 words and ends "stop", or exactly max_output_tokens words and ends "length". */
  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    ResponsesApiTest.vertx = vertx;
    MockerOptions instant = new MockerOptions().setPrefillTokensPerSecond(0).setDecodeTokensPerSecond(0)
        .setMinAnswerTokens(5).setMaxAnswerTokens(20);
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("fast-1").setModel("mock-llm")
        .setMocker(instant), "node-w")).await(30, SECONDS);
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("vanish-1").setModel("vanish-llm")
        .setDrainTimeoutMs(1000).setMocker(new MockerOptions().setDecodeTokensPerSecond(40)), "node-vanish"))
        .await(30, SECONDS);
    GatewayVerticle gateway = new GatewayVerticle(new GatewayOptions().setHttpPort(0).setRegistryResyncMs(300)
        .setFirstTokenTimeoutMs(1500), ClusterView.standalone("node-g"),
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)) {
      @Override
      protected ResponseStore responseStore() {
        return store;
      }
    };
    vertx.deployVerticle(gateway).await(30, SECONDS);
    port = gateway.actualPort();
    Eventually.read(ofSeconds(10), "both workers are routable", () -> get("/admin/cluster").body(),
        cluster -> new JsonObject(cluster).getJsonArray("workers").stream().map(JsonObject.class::cast)
            .filter(w -> "routable".equals(w.getString("status"))).count() == 2);
  }

  @Test
  void aWholeResponseIsShapedAsOpenAiShapesIt() throws Exception {
    HttpResponse<String> response = post("/v1/responses", """
        {"model":"mock-llm","instructions":"be brief","input":"hello there",
         "temperature":0.5,"metadata":{"team":"a"},"tools":[{"type":"function","name":"f","parameters":{}}]}
        """, "x-request-id", "req-resp-1");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("x-request-id")).contains("req-resp-1");
    assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v)
        .startsWith("application/json"));
    JsonObject body = new JsonObject(response.body());
    assertThat(body.getString("id")).startsWith("resp_");
    assertThat(body.getString("object")).isEqualTo("response");
    assertThat(body.getLong("created_at")).isCloseTo(System.currentTimeMillis() / 1000, org.assertj.core.data.Offset.offset(60L));
    assertThat(body.getString("status")).isEqualTo("completed");
    assertThat(body.getValue("error")).isNull();
    assertThat(body.getValue("incomplete_details")).isNull();
    assertThat(body.getString("model")).isEqualTo("mock-llm");
    assertThat(body.getString("instructions")).isEqualTo("be brief");
    assertThat(body.getValue("max_output_tokens")).isNull();
    assertThat(body.getDouble("temperature")).isEqualTo(0.5);
    assertThat(body.getDouble("top_p")).isEqualTo(1.0);
    assertThat(body.getString("tool_choice")).isEqualTo("auto");
    assertThat(body.getJsonArray("tools")).hasSize(1);
    assertThat(body.getBoolean("parallel_tool_calls")).isTrue();
    assertThat(body.getValue("previous_response_id")).isNull();
    assertThat(body.getBoolean("store")).isTrue();
    assertThat(body.getJsonObject("metadata")).isEqualTo(new JsonObject().put("team", "a"));
    assertThat(body.getJsonObject("text")).isEqualTo(new JsonObject().put("format",
        new JsonObject().put("type", "text")));
    JsonArray output = body.getJsonArray("output");
    assertThat(output).hasSize(1);
    JsonObject message = output.getJsonObject(0);
    assertThat(message.getString("type")).isEqualTo("message");
    assertThat(message.getString("id")).startsWith("msg_");
    assertThat(message.getString("status")).isEqualTo("completed");
    assertThat(message.getString("role")).isEqualTo("assistant");
    JsonObject text = message.getJsonArray("content").getJsonObject(0);
    assertThat(text.getString("type")).isEqualTo("output_text");
    assertThat(text.getString("text")).isNotBlank();
    assertThat(text.getJsonArray("annotations")).isEmpty();
    JsonObject usage = body.getJsonObject("usage");
    assertThat(usage.getInteger("input_tokens")).isPositive();
    assertThat(usage.getInteger("output_tokens")).isEqualTo(text.getString("text").split(" ").length);
    assertThat(usage.getInteger("total_tokens"))
        .isEqualTo(usage.getInteger("input_tokens") + usage.getInteger("output_tokens"));
    assertThat(usage.getJsonObject("input_tokens_details").getInteger("cached_tokens")).isNotNull();
    assertThat(usage.getJsonObject("output_tokens_details").getInteger("reasoning_tokens")).isZero();
  }

  @Test
  void anAnswerCutByMaxOutputTokensIsIncomplete() throws Exception {
    JsonObject body = new JsonObject(post("/v1/responses", "{\"model\":\"mock-llm\",\"input\":\"tell me\","
        + "\"max_output_tokens\":3}").body());
    assertThat(body.getString("status")).isEqualTo("incomplete");
    assertThat(body.getInteger("max_output_tokens")).isEqualTo(3);
    assertThat(body.getJsonObject("incomplete_details")).isEqualTo(new JsonObject()
        .put("reason", "max_output_tokens"));
    assertThat(body.getJsonObject("usage").getInteger("output_tokens")).isEqualTo(3);
    assertThat(body.getJsonArray("output").getJsonObject(0).getString("status")).isEqualTo("incomplete");
  }

  @Test
  void aStreamSendsNamedEventsInOpenAisOrderAndEndsCompleted() throws Exception {
    List<Event> events = stream("{\"model\":\"mock-llm\",\"input\":\"stream it\",\"stream\":true}");
    List<String> names = events.stream().map(Event::name).toList();
    assertThat(names.subList(0, 4)).containsExactly("response.created", "response.in_progress",
        "response.output_item.added", "response.content_part.added");
    assertThat(names.subList(names.size() - 4, names.size())).containsExactly("response.output_text.done",
        "response.content_part.done", "response.output_item.done", "response.completed");
    assertThat(names.subList(4, names.size() - 4)).isNotEmpty().allMatch("response.output_text.delta"::equals);
    for (int i = 0; i < events.size(); i++) {
      assertThat(events.get(i).data().getString("type")).isEqualTo(events.get(i).name());
      assertThat(events.get(i).data().getInteger("sequence_number")).isEqualTo(i);
    }
    assertThat(events.get(0).data().getJsonObject("response").getString("status")).isEqualTo("in_progress");
    assertThat(events.get(0).data().getJsonObject("response").getJsonArray("output")).isEmpty();
    String itemId = events.get(2).data().getJsonObject("item").getString("id");
    StringBuilder deltas = new StringBuilder();
    events.stream().filter(e -> e.name().equals("response.output_text.delta")).forEach(e -> {
      assertThat(e.data().getString("item_id")).isEqualTo(itemId);
      assertThat(e.data().getInteger("output_index")).isZero();
      assertThat(e.data().getInteger("content_index")).isZero();
      deltas.append(e.data().getString("delta"));
    });
    assertThat(events.get(names.size() - 4).data().getString("text")).isEqualTo(deltas.toString());
    JsonObject completed = events.get(events.size() - 1).data().getJsonObject("response");
    assertThat(completed.getString("status")).isEqualTo("completed");
    assertThat(completed.getString("id")).isEqualTo(events.get(0).data().getJsonObject("response").getString("id"));
    assertThat(completed.getJsonArray("output").getJsonObject(0).getJsonArray("content").getJsonObject(0)
        .getString("text")).isEqualTo(deltas.toString());
    assertThat(completed.getJsonObject("usage").getInteger("output_tokens")).isPositive();
    assertThat(completed.getJsonObject("usage").getInteger("total_tokens")).isPositive();
  }

  @Test
  void aStreamCutByMaxOutputTokensEndsIncomplete() throws Exception {
    List<Event> events = stream("{\"model\":\"mock-llm\",\"input\":\"stream it\",\"max_output_tokens\":2,"
        + "\"stream\":true}");
    Event last = events.get(events.size() - 1);
    assertThat(last.name()).isEqualTo("response.incomplete");
    assertThat(last.data().getJsonObject("response").getJsonObject("incomplete_details").getString("reason"))
        .isEqualTo("max_output_tokens");
  }

  @Test
  void aChainedRequestContinuesTheStoredConversation() throws Exception {
    JsonObject first = new JsonObject(post("/v1/responses", "{\"model\":\"mock-llm\",\"instructions\":\"sys one\","
        + "\"input\":\"first question\"}").body());
    String firstId = first.getString("id");
    String firstAnswer = first.getJsonArray("output").getJsonObject(0).getJsonArray("content").getJsonObject(0)
        .getString("text");
    JsonArray firstStored = store.stored(firstId).getJsonArray("messages");
    assertThat(firstStored).containsExactly(new JsonObject().put("role", "user").put("content", "first question"),
        new JsonObject().put("role", "assistant").put("content", firstAnswer));

    List<Event> events = stream("{\"model\":\"mock-llm\",\"input\":[{\"role\":\"user\",\"content\":"
        + "\"second question\"}],\"previous_response_id\":\"" + firstId + "\",\"stream\":true}");
    JsonObject second = events.get(events.size() - 1).data().getJsonObject("response");
    assertThat(second.getString("status")).isEqualTo("completed");
    assertThat(second.getString("previous_response_id")).isEqualTo(firstId);
    assertThat(second.getValue("instructions")).isNull();
    String secondAnswer = second.getJsonArray("output").getJsonObject(0).getJsonArray("content").getJsonObject(0)
        .getString("text");
    assertThat(store.stored(second.getString("id")).getJsonArray("messages").stream()
        .map(m -> ((JsonObject) m).getString("content")))
        .containsExactly("first question", firstAnswer, "second question", secondAnswer);
    // The stored response is the one the stream completed with.
    assertThat(new JsonObject(get("/v1/responses/" + second.getString("id")).body())).isEqualTo(second);
  }

  @Test
  void aStoredResponseCanBeReadAndDeletedOnce() throws Exception {
    HttpResponse<String> created = post("/v1/responses", "{\"model\":\"mock-llm\",\"input\":\"keep me\"}");
    JsonObject body = new JsonObject(created.body());
    String id = body.getString("id");
    HttpResponse<String> read = get("/v1/responses/" + id);
    assertThat(read.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(read.body())).isEqualTo(body);
    HttpResponse<String> deleted = send("DELETE", "/v1/responses/" + id);
    assertThat(deleted.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(deleted.body())).isEqualTo(new JsonObject().put("id", id)
        .put("object", "response.deleted").put("deleted", true));
    assertError(get("/v1/responses/" + id), 404, "response_not_found", "response_id");
    assertError(send("DELETE", "/v1/responses/" + id), 404, "response_not_found", "response_id");
    HttpResponse<String> chained = post("/v1/responses", "{\"model\":\"mock-llm\",\"input\":\"more\","
        + "\"previous_response_id\":\"" + id + "\"}");
    assertError(chained, 404, "previous_response_not_found", "previous_response_id");
  }

  @Test
  void unknownAndUnstoredResponsesAreNotFound() throws Exception {
    assertError(get("/v1/responses/resp_nope"), 404, "response_not_found", "response_id");
    HttpResponse<String> chained = post("/v1/responses", "{\"model\":\"mock-llm\",\"input\":\"hi\","
        + "\"previous_response_id\":\"resp_nope\"}");
    assertThat(new JsonObject(chained.body())).isEqualTo(new JsonObject().put("error", new JsonObject()
        .put("message", "Previous response with id 'resp_nope' not found.")
        .put("type", "invalid_request_error").put("param", "previous_response_id")
        .put("code", "previous_response_not_found")));
    assertThat(chained.statusCode()).isEqualTo(404);
    JsonObject unstored = new JsonObject(post("/v1/responses", "{\"model\":\"mock-llm\",\"input\":\"forget me\","
        + "\"store\":false}").body());
    assertThat(unstored.getBoolean("store")).isFalse();
    assertError(get("/v1/responses/" + unstored.getString("id")), 404, "response_not_found", "response_id");
  }

  @Test
  void badRequestsAre400sNamingTheField() throws Exception {
    assertError(post("/v1/responses", "{\"model\":\"mock-llm\",\"input\":[{\"role\":\"user\",\"content\":\"a\"},"
        + "{\"role\":\"user\",\"content\":\"b\"},{\"role\":\"robot\",\"content\":\"c\"}]}"), 400, "invalid_value",
        "input[2].role");
    HttpResponse<String> hosted = post("/v1/responses", "{\"model\":\"mock-llm\",\"input\":\"hi\","
        + "\"tools\":[{\"type\":\"web_search\"}]}");
    assertThat(hosted.statusCode()).as("a hosted tool is left out, not refused: agents send them").isEqualTo(200);
    assertThat(hosted.headers().firstValue("x-switchboard-tools-left-out")).hasValue("web_search");
    assertError(post("/v1/responses", "{\"model\":\"mock-llm\",\"input\":\"hi\",\"max_output_tokens\":-1}"),
        400, "invalid_value", "max_output_tokens");
    assertError(post("/v1/responses", "{\"model\":\"mock-llm\""), 400, "invalid_json", null);
    assertError(post("/v1/responses", "{\"model\":\"no-such-llm\",\"input\":\"hi\"}"), 404, "model_not_found",
        "model");
    assertThat(post("/v1/nope", "{}").body()).contains("POST /v1/responses");
  }

  @Test
  void aWorkerLostMidStreamEndsTheStreamWithResponseFailed() throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/responses"))
        .header("content-type", "application/json").header("x-request-id", "req-cut-1")
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"vanish-llm\",\"input\":\"cut\","
            + "\"max_output_tokens\":2000,\"stream\":true}")).build();
    HttpResponse<Stream<String>> response = http.send(request, HttpResponse.BodyHandlers.ofLines());
    assertThat(response.statusCode()).isEqualTo(200);
    List<Event> events = new ArrayList<>();
    Iterator<String> lines = response.body().iterator();
    boolean cut = false;
    for (Event event = next(lines); event != null; event = next(lines)) {
      events.add(event);
      if (!cut && event.name().equals("response.output_text.delta")) {
        cut = true;
        vertx.eventBus().publish(Addresses.MEMBER_LEFT_LOCAL, "node-vanish");
      }
    }
    assertThat(cut).isTrue();
    Event last = events.get(events.size() - 1);
    assertThat(last.name()).isEqualTo("response.failed");
    for (int i = 0; i < events.size(); i++) {
      assertThat(events.get(i).data().getInteger("sequence_number")).isEqualTo(i);
    }
    JsonObject failed = last.data().getJsonObject("response");
    assertThat(failed.getString("status")).isEqualTo("failed");
    assertThat(failed.getJsonObject("error").getString("code")).isEqualTo("worker_failed");
    assertThat(failed.getJsonObject("error").getString("message")).contains("vanish-1").contains("req-cut-1");
    assertThat(events).noneMatch(e -> e.name().equals("response.completed"));
    assertThat(store.stored(failed.getString("id"))).isNull();
  }

  /** The next event of a stream (its event: and data: lines), or null when the stream ended. */
  private static Event next(Iterator<String> lines) {
    String name = null;
    while (lines.hasNext()) {
      String line = lines.next();
      if (line.startsWith("event: ")) {
        name = line.substring(7);
      } else if (line.startsWith("data: ")) {
        assertThat(name).as("an event: line before data: " + line).isNotNull();
        return new Event(name, new JsonObject(line.substring(6)));
      }
    }
    return null;
  }

  private static List<Event> stream(String body) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/responses"))
        .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    HttpResponse<Stream<String>> response = http.send(request, HttpResponse.BodyHandlers.ofLines());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v)
        .startsWith("text/event-stream"));
    List<Event> events = new ArrayList<>();
    Iterator<String> lines = response.body().iterator();
    for (Event event = next(lines); event != null; event = next(lines)) {
      events.add(event);
    }
    return events;
  }

  private static void assertError(HttpResponse<String> response, int status, String code, String param) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    JsonObject error = new JsonObject(response.body()).getJsonObject("error");
    assertThat(error.getString("code")).as(response.body()).isEqualTo(code);
    assertThat(error.getString("param")).as(response.body()).isEqualTo(param);
    assertThat(error.getString("message")).isNotBlank();
  }

  private static HttpResponse<String> post(String path, String body, String... headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return send("GET", path);
  }

  private static HttpResponse<String> send(String method, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
  }
}
