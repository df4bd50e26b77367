package io.switchboard.node;

import io.switchboard.gateway.SseClient;
import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.FreePorts;
import io.switchboard.testsupport.NodeProcess;
import io.switchboard.worker.llamacpp.LlamaServerTestSupport;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

import static io.switchboard.node.ClusterTestSupport.freshCluster;
import static io.switchboard.node.ClusterTestSupport.get;
import static io.switchboard.node.ClusterTestSupport.post;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The GPU-backend quick start against a real OpenAI-compatible server: a node started with
 * {@code --backend URL} in front of a real llama-server (with --metrics) serves its model through the gateway,
 * shows the backend's kind, models, health and load in /admin/cluster, passes unknown fields and logprobs
 * through, stops routing while the backend is down (a clear 503) and serves again once it is back; bounds an answer
 * whose client set no max_tokens by the gateway's cap, and refuses llama-server's fields no client may set.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OpenAiBackendIT {

  private static final List<Process> backends = new ArrayList<>();
  private static NodeProcess node;
  private static int httpPort;
  private static int backendPort;
  private static String model;
  /** The gateway's cap on completion tokens here (gateway.limits.maxTokens): far below what llama-server would write. */
  private static final int CAP = 24;

  @BeforeAll
  static void start() throws Exception {
    assertThat(NodeProcess.jar()).as("run mvn package first").exists();
    backendPort = LlamaServerTestSupport.start(backends, "--metrics");
    httpPort = FreePorts.any();
    java.util.Map<String, String> env = new java.util.HashMap<>(freshCluster("openai"));
    env.put("SWITCHBOARD_GATEWAY_LIMITS_MAX_TOKENS", Integer.toString(CAP));
    node = new NodeProcess("openai-node", env, "--http-port", Integer.toString(httpPort),
        "--backend", "http://127.0.0.1:" + backendPort + "/v1");
    Eventually.within(ofSeconds(60), "the backend's model is listed and routable", () -> !routableModels().isEmpty());
    model = routableModels().get(0);
  }

  @AfterAll
  static void stop() throws Exception {
    if (node != null) {
      node.close();
    }
    for (Process backend : backends) {
      backend.destroyForcibly().waitFor();
    }
  }

  private static List<String> routableModels() {
    try {
      return openAiWorker().getString("status").equals("routable")
          ? openAiWorker().getJsonArray("models").stream().map(String::valueOf).toList() : List.of();
    } catch (Exception notYet) {
      return List.of();
    }
  }

  private static JsonObject openAiWorker() throws Exception {
    return new JsonObject(get(httpPort, "/admin/cluster").body()).getJsonArray("workers").stream()
        .map(JsonObject.class::cast).filter(w -> "openai".equals(w.getString("engine"))).findFirst()
        .orElseThrow();
  }

  private static String chat(String extra) {
    return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}],"
        + "\"max_tokens\":5,\"temperature\":0" + extra + "}";
  }

  @Test
  @Order(1)
  void theBackendsModelIsServedStreamedAndWhole() throws Exception {
    HttpResponse<String> models = get(httpPort, "/v1/models");
    assertThat(new JsonObject(models.body()).getJsonArray("data").stream().map(JsonObject.class::cast)
        .map(m -> m.getString("id"))).contains(model);

    HttpResponse<String> whole = post(httpPort, "/v1/chat/completions", chat(""));
    assertThat(whole.statusCode()).as(whole.body()).isEqualTo(200);
    assertThat(whole.headers().firstValue("x-switchboard-worker").orElse("")).startsWith("openai-127.0.0.1-");
    JsonObject answer = new JsonObject(whole.body());
    assertThat(answer.getString("model")).isEqualTo(model);
    assertThat(answer.getJsonObject("usage").getInteger("completion_tokens")).isEqualTo(5);
    assertThat(answer.getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content"))
        .isNotEmpty();

    try (SseClient sse = new SseClient(httpPort, "/v1/chat/completions", chat(",\"stream\":true"), 0)) {
      assertThat(sse.status).isEqualTo(200);
      List<String> events = sse.remainingData();
      assertThat(events).last().isEqualTo("[DONE]");
      assertThat(events.size()).isGreaterThan(2);
    }
  }

  @Test
  @Order(2)
  void adminClusterShowsTheBackendsKindModelsHealthAndLoad() throws Exception {
    Eventually.within(ofSeconds(15), "the backend's load from /metrics is shown", () -> openAiWorker()
        .getJsonObject("engineStatus", new JsonObject()).containsKey("backendLoad"));
    JsonObject worker = openAiWorker();
    JsonObject status = worker.getJsonObject("engineStatus");
    assertThat(status.getString("kind")).isEqualTo("llamacpp");
    assertThat(status.getString("kindFrom")).contains("owned_by");
    assertThat(status.getString("backend")).isEqualTo("llama-server at 127.0.0.1:" + backendPort);
    assertThat(status.getJsonObject("health").getBoolean("healthy")).isTrue();
    assertThat(status.getJsonObject("health").getString("path")).isEqualTo("/health");
    assertThat(status.getJsonArray("models").getJsonObject(0).getString("id")).isEqualTo(model);
    JsonObject load = status.getJsonObject("backendLoad");
    assertThat(load.getString("source")).isEqualTo("llamacpp");
    assertThat(load.getDouble("running")).isNotNull();
    assertThat(load.getDouble("waiting")).isNotNull();
  }

  @Test
  @Order(3)
  void logprobsAndUnknownFieldsGoThroughToTheBackend() throws Exception {
    HttpResponse<String> whole = post(httpPort, "/v1/chat/completions",
        chat(",\"logprobs\":true,\"top_logprobs\":2,\"top_k\":40,\"cache_prompt\":false"));
    assertThat(whole.statusCode()).as(whole.body()).isEqualTo(200);
    JsonObject logprobs = new JsonObject(whole.body()).getJsonArray("choices").getJsonObject(0)
        .getJsonObject("logprobs");
    assertThat(logprobs).as(whole.body()).isNotNull();
    JsonArray content = logprobs.getJsonArray("content");
    assertThat(content).hasSize(5);
    assertThat(content.getJsonObject(0).getJsonArray("top_logprobs")).hasSize(2);

    try (SseClient sse = new SseClient(httpPort, "/v1/chat/completions",
        chat(",\"stream\":true,\"logprobs\":true,\"top_logprobs\":1"), 0)) {
      long withLogprobs = sse.remainingData().stream().filter(e -> !e.equals("[DONE]")).map(JsonObject::new)
          .filter(e -> !e.getJsonArray("choices").isEmpty()
              && e.getJsonArray("choices").getJsonObject(0).getValue("logprobs") != null).count();
      assertThat(withLogprobs).isGreaterThanOrEqualTo(1);
    }
  }

  @Test
  @Order(4)
  void aBackendThatIsDownIsNotRoutedAndClientsAreToldWhy() throws Exception {
    backends.get(0).destroyForcibly().waitFor();
    long killed = System.currentTimeMillis();
    Eventually.within(ofSeconds(15), "the worker is excluded",
        () -> "excluded".equals(openAiWorker().getString("status")));
    long excludedAfter = System.currentTimeMillis() - killed;
    assertThat(openAiWorker().getString("excludedBecause"))
        .startsWith("llama-server at 127.0.0.1:" + backendPort + " is unhealthy: GET /health failed");

    HttpResponse<String> refused = post(httpPort, "/v1/chat/completions", chat(""));
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
    JsonObject error = new JsonObject(refused.body()).getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo("no_healthy_workers");
    assertThat(error.getString("message")).contains("is unhealthy").contains("GET /admin/cluster");
    System.out.println("backend killed -> worker excluded after " + excludedAfter + " ms");

    LlamaServerTestSupport.startOn(backends, backendPort, "--metrics");
    Eventually.within(ofSeconds(30), "the worker is routable again",
        () -> "routable".equals(openAiWorker().getString("status")));
    assertThat(post(httpPort, "/v1/chat/completions", chat("")).statusCode()).isEqualTo(200);
  }

  @Test
  @Order(5)
  void anAnswerWhoseClientSetNoLimitIsBoundedByTheGatewaysCap() throws Exception {
    // llama-server's n_predict defaults to -1: without a limit it writes until its 512-token context is full.
    JsonObject body = new JsonObject().put("model", model).put("temperature", 0).put("messages",
        new JsonArray().add(new JsonObject().put("role", "user").put("content", "hello")));
    String unlimited = body.encode();
    HttpResponse<String> whole = post(httpPort, "/v1/chat/completions", unlimited);
    assertThat(whole.statusCode()).as(whole.body()).isEqualTo(200);
    JsonObject answer = new JsonObject(whole.body());
    assertThat(answer.getJsonObject("usage").getInteger("completion_tokens")).isEqualTo(CAP);
    assertThat(answer.getJsonArray("choices").getJsonObject(0).getString("finish_reason")).isEqualTo("length");

    try (SseClient sse = new SseClient(httpPort, "/v1/chat/completions",
        body.copy().put("stream", true).put("stream_options", new JsonObject().put("include_usage", true)).encode(),
        0)) {
      List<JsonObject> events = sse.remainingData().stream().filter(e -> !e.equals("[DONE]")).map(JsonObject::new)
          .toList();
      assertThat(events.stream().filter(e -> e.getJsonObject("usage") != null).findFirst().orElseThrow()
          .getJsonObject("usage").getInteger("completion_tokens")).isEqualTo(CAP);
    }
  }

  @Test
  @Order(6)
  void fieldsOfLlamaServerAClientMayNotSetAreRefusedNamingTheField() throws Exception {
    for (String field : List.of("\"n_predict\":400", "\"ignore_eos\":true", "\"id_slot\":0",
        "\"lora\":[{\"id\":0,\"scale\":1}]", "\"n_probs\":50000")) {
      HttpResponse<String> refused = post(httpPort, "/v1/chat/completions", chat("," + field));
      assertThat(refused.statusCode()).as(field + ": " + refused.body()).isEqualTo(400);
      JsonObject error = new JsonObject(refused.body()).getJsonObject("error");
      String name = field.substring(1, field.indexOf('"', 1));
      assertThat(error.getString("param")).isEqualTo(name);
      assertThat(error.getString("type")).isEqualTo("invalid_request_error");
      assertThat(error.getString("message")).contains("'" + name + "' may not be set")
          .contains("workers[N].openai.passFields");
    }
    assertThat(openAiWorker().getJsonObject("circuit").getString("state")).isEqualTo("closed");
    assertThat(post(httpPort, "/v1/chat/completions", chat("")).statusCode()).isEqualTo(200);
  }
}
