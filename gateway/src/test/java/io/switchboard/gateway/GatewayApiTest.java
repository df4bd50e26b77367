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
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.servicediscovery.Record;
import io.vertx.servicediscovery.ServiceDiscovery;
import io.vertx.servicediscovery.ServiceDiscoveryOptions;
import io.vertx.servicediscovery.Status;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static java.time.Duration.ofSeconds;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The gateway's HTTP API end to end against real worker verticles running the mocker engine, on one
 * (unclustered) Vert.x: every endpoint, streaming and not, every error case, cancellation, a slow client and
 * a worker that vanishes mid-stream.
 */
@ExtendWith(VertxExtension.class)
class GatewayApiTest {

  private static final long MAX_BODY = 64 * 1024;
  private static Vertx vertx;
  private static int port;
  private static WorkerVerticle fast;
  private static WorkerVerticle slow;
  private static WorkerVerticle bulk;
  private static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void startCluster(Vertx vertx) throws Exception {
    GatewayApiTest.vertx = vertx;
    MockerOptions instant = new MockerOptions().setPrefillTokensPerSecond(0).setDecodeTokensPerSecond(0);
    fast = new WorkerVerticle(new WorkerOptions().setId("fast-1").setModel("mock-llm").setMocker(instant), "node-w");
    slow = new WorkerVerticle(new WorkerOptions().setId("slow-1").setModel("slow-llm").setDrainTimeoutMs(1000)
        .setMocker(new MockerOptions().setDecodeTokensPerSecond(40)), "node-w");
    bulk = new WorkerVerticle(new WorkerOptions().setId("bulk-1").setModel("bulk-llm").setContextLength(200_000)
        .setMocker(instant), "node-w");
    WorkerVerticle vanishing = new WorkerVerticle(new WorkerOptions().setId("vanish-1").setModel("vanish-llm").setDrainTimeoutMs(1000)
        .setMocker(new MockerOptions().setDecodeTokensPerSecond(40)), "node-vanish");
    // Reports once, then never again within the test: the gateway must call it silent.
    WorkerVerticle mute = new WorkerVerticle(new WorkerOptions().setId("mute-1").setModel("mute-llm")
        .setLoadReportIntervalMs(600_000), "node-w");
    for (WorkerVerticle worker : List.of(fast, slow, bulk, vanishing)) {
      vertx.deployVerticle(worker).await(30, SECONDS);
    }
    for (String node : List.of("node-m1", "node-m2")) {
      vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("migrate-" + node.substring(6))
          .setModel("migrate-llm").setDrainTimeoutMs(1000).setMocker(new MockerOptions().setDecodeTokensPerSecond(40)),
          node)).await(30, SECONDS);
    }
    // ttft-a takes seconds to prefill even a short prompt; ttft-b answers at once.
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("ttft-a").setModel("ttft-llm")
        .setMocker(new MockerOptions().setPrefillTokensPerSecond(1).setDecodeTokensPerSecond(0)), "node-w"))
        .await(30, SECONDS);
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("ttft-b").setModel("ttft-llm")
        .setMocker(instant), "node-w")).await(30, SECONDS);
    // One slot and no worker-side queue: a second request must wait in the gateway.
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("queue-1").setModel("queue-llm")
        .setSlots(1).setMaxQueue(0).setMocker(new MockerOptions().setDecodeTokensPerSecond(40)), "node-w"))
        .await(30, SECONDS);
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("jam-1").setModel("jam-llm")
        .setSlots(1).setMaxQueue(0).setMocker(new MockerOptions().setDecodeTokensPerSecond(10)), "node-w"))
        .await(30, SECONDS);
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("flaky-1").setModel("flaky-llm")
        .setMocker(new MockerOptions().setPrefillTokensPerSecond(1)), "node-w")).await(30, SECONDS);
    for (String id : List.of("sticky-1", "sticky-2", "sticky-3")) {
      vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId(id).setModel("sticky-llm")
          .setMocker(instant), "node-w")).await(30, SECONDS);
    }
    GatewayVerticle gateway = new GatewayVerticle(new GatewayOptions().setHttpPort(0).setMaxBodyBytes(MAX_BODY)
        .setWorkerSilenceMs(2500).setRegistryResyncMs(300).setFirstTokenTimeoutMs(1500)
        .setAdmissionTimeoutMs(2000).setCircuitFailureThreshold(1),
        ClusterView.standalone("node-g"), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    vertx.deployVerticle(gateway).await(30, SECONDS);
    vertx.deployVerticle(mute).await(30, SECONDS);
    port = gateway.actualPort();
    // Every worker but the mute one, which may already have gone silent.
    Eventually.read(ofSeconds(10), "every worker but mute-1 is routable", () -> get("/admin/cluster").body(),
        cluster -> new JsonObject(cluster).getJsonArray("workers").stream().map(JsonObject.class::cast)
            .filter(w -> !w.getString("workerId").equals("mute-1"))
            .filter(w -> "routable".equals(w.getString("status"))).count() == 14);
  }

  @Test
  void chatWithoutStreamingAnswersOneCompletion() throws Exception {
    HttpResponse<String> response = post("/v1/chat/completions",
        "{\"model\":\"mock-llm\",\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}],\"max_tokens\":7}",
        "x-request-id", "req-abc-1");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("x-request-id")).contains("req-abc-1");
    assertThat(response.headers().firstValue("x-switchboard-worker")).contains("fast-1");
    JsonObject body = new JsonObject(response.body());
    assertThat(body.getString("object")).isEqualTo("chat.completion");
    assertThat(body.getString("id")).isEqualTo("chatcmpl-req-abc-1");
    JsonObject choice = body.getJsonArray("choices").getJsonObject(0);
    assertThat(choice.getString("finish_reason")).isEqualTo("length");
    assertThat(choice.getJsonObject("message").getString("role")).isEqualTo("assistant");
    assertThat(choice.getJsonObject("message").getString("content").split(" ")).hasSize(7);
    assertThat(body.getJsonObject("usage").getInteger("completion_tokens")).isEqualTo(7);
    assertThat(body.getJsonObject("usage").getInteger("total_tokens"))
        .isEqualTo(7 + body.getJsonObject("usage").getInteger("prompt_tokens"));
  }

  @Test
  void chatStreamIsFramedLikeOpenAiAndMatchesTheNonStreamedAnswer() throws Exception {
    String request = "{\"model\":\"mock-llm\",\"messages\":[{\"role\":\"user\",\"content\":\"same prompt\"}],"
        + "\"max_tokens\":12";
    String whole = new JsonObject(post("/v1/chat/completions", request + "}").body())
        .getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content");
    try (SseClient sse = new SseClient(port, "/v1/chat/completions",
        request + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}", 0)) {
      assertThat(sse.status).isEqualTo(200);
      assertThat(sse.headers.get("content-type")).startsWith("text/event-stream");
      List<String> events = sse.remainingData();
      assertThat(events.get(events.size() - 1)).isEqualTo("[DONE]");
      JsonObject first = new JsonObject(events.get(0));
      assertThat(first.getString("object")).isEqualTo("chat.completion.chunk");
      assertThat(first.getJsonArray("choices").getJsonObject(0).getJsonObject("delta").getString("role"))
          .isEqualTo("assistant");
      StringBuilder text = new StringBuilder();
      String finish = null;
      for (String event : events.subList(0, events.size() - 2)) {
        JsonObject choice = new JsonObject(event).getJsonArray("choices").getJsonObject(0);
        text.append(choice.getJsonObject("delta").getString("content", ""));
        finish = choice.getString("finish_reason") != null ? choice.getString("finish_reason") : finish;
      }
      assertThat(text.toString()).isEqualTo(whole);
      assertThat(finish).isEqualTo("length");
      JsonObject usage = new JsonObject(events.get(events.size() - 2));
      assertThat(usage.getJsonArray("choices")).isEmpty();
      assertThat(usage.getJsonObject("usage").getInteger("completion_tokens")).isEqualTo(12);
    }
  }

  @Test
  void completionsStreamAndNot() throws Exception {
    HttpResponse<String> response = post("/v1/completions",
        "{\"model\":\"mock-llm\",\"prompt\":\"Once upon a time\",\"max_tokens\":5}");
    assertThat(response.statusCode()).isEqualTo(200);
    JsonObject body = new JsonObject(response.body());
    assertThat(body.getString("object")).isEqualTo("text_completion");
    String text = body.getJsonArray("choices").getJsonObject(0).getString("text");
    assertThat(text.split(" ")).hasSize(5);
    try (SseClient sse = new SseClient(port, "/v1/completions",
        "{\"model\":\"mock-llm\",\"prompt\":\"Once upon a time\",\"max_tokens\":5,\"stream\":true}", 0)) {
      List<String> events = sse.remainingData();
      assertThat(events).last().isEqualTo("[DONE]");
      StringBuilder streamed = new StringBuilder();
      events.subList(0, events.size() - 1).forEach(e ->
          streamed.append(new JsonObject(e).getJsonArray("choices").getJsonObject(0).getString("text")));
      assertThat(streamed.toString()).isEqualTo(text);
    }
  }

  @Test
  void stopSequenceEndsTheAnswer() throws Exception {
    String full = new JsonObject(post("/v1/completions",
        "{\"model\":\"mock-llm\",\"prompt\":\"stop test\",\"max_tokens\":20}").body())
        .getJsonArray("choices").getJsonObject(0).getString("text");
    String stop = full.split(" ")[3];
    JsonObject stopped = new JsonObject(post("/v1/completions", new JsonObject().put("model", "mock-llm")
        .put("prompt", "stop test").put("max_tokens", 20).put("stop", stop).encode()).body());
    JsonObject choice = stopped.getJsonArray("choices").getJsonObject(0);
    assertThat(choice.getString("finish_reason")).isEqualTo("stop");
    assertThat(choice.getString("text")).isEqualTo(full.substring(0, full.indexOf(stop)));
  }

  @Test
  void unknownModelIs404AndListsTheServedModels() throws Exception {
    HttpResponse<String> response = post("/v1/chat/completions",
        "{\"model\":\"gpt-17\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(response.statusCode()).isEqualTo(404);
    JsonObject error = new JsonObject(response.body()).getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo("model_not_found");
    assertThat(error.getString("param")).isEqualTo("model");
    assertThat(error.getString("message")).contains("gpt-17").contains("mock-llm").contains("slow-llm");
  }

  @Test
  void modelWithOnlySilentWorkersIs503AndSaysWhy() throws Exception {
    HttpResponse<String> response = Eventually.read(ofSeconds(5), "mute-1 is called silent", () -> post(
        "/v1/chat/completions",
        "{\"model\":\"mute-llm\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":1}"),
        answer -> answer.statusCode() != 200);
    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(response.headers().firstValue("retry-after")).isPresent();
    JsonObject error = new JsonObject(response.body()).getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo("no_healthy_workers");
    assertThat(error.getString("message")).contains("has 1 worker").contains("mute-1").contains("silent for");
  }

  @Test
  void embeddingsAnswerInOpenAisShapeAndSimilarTextsAreCloser() throws Exception {
    HttpResponse<String> response = post("/v1/embeddings", "{\"model\":\"mock-llm\",\"input\":["
        + "\"the cat sat on the mat\",\"the cat sat on a mat\",\"stock prices fell sharply\"]}", "x-request-id", "emb-1");
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(response.headers().firstValue("x-switchboard-worker")).contains("fast-1");
    JsonObject body = new JsonObject(response.body());
    assertThat(body.getString("object")).isEqualTo("list");
    assertThat(body.getString("model")).isEqualTo("mock-llm");
    JsonArray data = body.getJsonArray("data");
    assertThat(data).hasSize(3);
    double[][] vectors = new double[3][];
    for (int i = 0; i < 3; i++) {
      JsonObject entry = data.getJsonObject(i);
      assertThat(entry.getString("object")).isEqualTo("embedding");
      assertThat(entry.getInteger("index")).isEqualTo(i);
      vectors[i] = entry.getJsonArray("embedding").stream().mapToDouble(v -> ((Number) v).doubleValue()).toArray();
      assertThat(vectors[i]).hasSize(MockerOptions.DEFAULT_EMBEDDING_DIMENSIONS);
      assertThat(dot(vectors[i], vectors[i])).isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-4));
    }
    assertThat(dot(vectors[0], vectors[1])).isGreaterThan(dot(vectors[0], vectors[2]) + 0.3);
    // The mocker's tokenizer: one token per six letters of a word, so "sharply" is two: 6 + 6 + 5.
    assertThat(body.getJsonObject("usage").getInteger("prompt_tokens")).isEqualTo(17);
    assertThat(body.getJsonObject("usage").getInteger("total_tokens")).isEqualTo(17);

    JsonObject small = new JsonObject(post("/v1/embeddings", "{\"model\":\"mock-llm\",\"input\":\"hi there\","
        + "\"dimensions\":8,\"encoding_format\":\"base64\"}").body());
    byte[] packed = java.util.Base64.getDecoder().decode(small.getJsonArray("data").getJsonObject(0)
        .getString("embedding"));
    assertThat(packed).hasSize(8 * 4);
  }

  @Test
  void embeddingsBadInputAndModelsWithoutEmbeddingsGetClearErrors() throws Exception {
    assertError(post("/v1/embeddings", "{\"model\":\"mock-llm\"}"), 400, "missing_required_parameter", "input");
    assertError(post("/v1/embeddings", "{\"model\":\"mock-llm\",\"input\":[]}"), 400, "invalid_value", "input");
    assertError(post("/v1/embeddings", "{\"model\":\"mock-llm\",\"input\":[\"a\",3]}"), 400, "invalid_type",
        "input[1]");
    assertError(post("/v1/embeddings", "{\"model\":\"mock-llm\",\"input\":\"a\",\"encoding_format\":\"hex\"}"),
        400, "invalid_value", "encoding_format");
    assertError(post("/v1/embeddings", "{\"model\":\"mock-llm\",\"input\":\"a\",\"dimensions\":100000}"),
        400, "invalid_request_for_model", null);
    HttpResponse<String> none = post("/v1/embeddings", "{\"model\":\"no-such-model\",\"input\":\"a\"}");
    assertError(none, 404, "model_not_found", "model");
    assertThat(none.body()).contains("Models with embeddings in this cluster:").contains("mock-llm");
  }

  private static double dot(double[] a, double[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += a[i] * b[i];
    }
    return sum;
  }

  @Test
  void badInputGetsOpenAiShaped4xxNamingTheField() throws Exception {
    assertError(post("/v1/chat/completions", "{\"model\": \"mock-llm\", \"messages\": ["), 400, "invalid_json", null);
    assertError(post("/v1/chat/completions", "{\"model\":\"mock-llm\",\"messages\":[{\"role\":\"wizard\","
        + "\"content\":\"hi\"}]}"), 400, "invalid_value", "messages[0].role");
    assertError(post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"),
        400, "missing_required_parameter", "model");
    assertError(post("/v1/chat/completions", "{\"model\":\"mock-llm\",\"messages\":[{\"role\":\"user\","
        + "\"content\":\"hi\"}],\"temperature\":\"hot\"}"), 400, "invalid_type", "temperature");
    assertError(post("/v1/chat/completions", "{\"model\":\"mock-llm\",\"messages\":[{\"role\":\"user\","
        + "\"content\":\"hi\"}],\"max_tokens\":-3}"), 400, "invalid_value", "max_tokens");
    assertError(post("/v1/completions", "{\"model\":\"mock-llm\"}"), 400, "missing_required_parameter", "prompt");
    assertError(post("/v1/chat/completions", "{\"model\":\"mock-llm\",\"messages\":[{\"role\":\"user\","
        + "\"content\":\"hi\"}],\"max_tokens\":100000}"), 400, "invalid_request_for_model", null);
    String huge = "{\"model\":\"mock-llm\",\"prompt\":\"" + "a".repeat((int) MAX_BODY) + "\"}";
    assertError(post("/v1/completions", huge), 413, "request_too_large", null);
    assertError(post("/v1/nope", "{}"), 404, "unknown_url", null);
    assertError(get("/v1/chat/completions"), 405, "method_not_allowed", null);
    // and the node still serves
    assertThat(post("/v1/completions", "{\"model\":\"mock-llm\",\"prompt\":\"ok\",\"max_tokens\":1}").statusCode())
        .isEqualTo(200);
  }

  @Test
  void clientDisconnectCancelsTheGenerationOnTheWorker() throws Exception {
    try (SseClient sse = new SseClient(port, "/v1/chat/completions", "{\"model\":\"slow-llm\",\"messages\":"
        + "[{\"role\":\"user\",\"content\":\"long\"}],\"max_tokens\":2000,\"stream\":true}", 0)) {
      sse.nextData();
      sse.nextData();
      assertThat(slow.load().await(30, SECONDS).inFlight()).isEqualTo(1);
    }
    long closed = System.nanoTime();
    Eventually.within(ofSeconds(2), "cancellation reached the worker",
        () -> slow.load().await(30, SECONDS).inFlight() == 0);
    System.out.printf("client disconnect -> worker cancelled in %.1f ms%n", (System.nanoTime() - closed) / 1e6);
  }

  @Test
  void slowClientHoldsBackTheWorkerInsteadOfBuffering() throws Exception {
    int tokens = 50_000;
    try (SseClient sse = new SseClient(port, "/v1/completions", "{\"model\":\"bulk-llm\",\"prompt\":\"flood\","
        + "\"max_tokens\":" + tokens + ",\"stream\":true}", 4096)) {
      sse.nextData();
      // Real time: an instant engine would be done long ago; flow control keeps it waiting for this reader.
      Thread.sleep(1500);
      assertThat(bulk.load().await(30, SECONDS).inFlight()).isEqualTo(1);
      List<String> events = sse.remainingData();
      assertThat(events).last().isEqualTo("[DONE]");
      long textChunks = events.stream().filter(e -> e.contains("\"text\":\"") && !e.contains("\"text\":\"\""))
          .count();
      assertThat(textChunks + 1).isEqualTo(tokens);
    }
  }

  @Test
  void aStreamWhoseWorkerVanishesContinuesOnAnotherWorkerWithNothingLostOrRepeated() throws Exception {
    String body = "{\"model\":\"migrate-llm\",\"messages\":[{\"role\":\"user\",\"content\":\"carry on\"}],"
        + "\"max_tokens\":40,\"stream\":true,\"stream_options\":{\"include_usage\":true}}";
    String unbroken = new JsonObject(post("/v1/chat/completions", body.replace("\"stream\":true", "\"stream\":false")
        .replace(",\"stream_options\":{\"include_usage\":true}", "")).body()).getJsonArray("choices")
        .getJsonObject(0).getJsonObject("message").getString("content");
    try (SseClient sse = new SseClient(port, "/v1/chat/completions", body, 0)) {
      String first = sse.headers.get("x-switchboard-worker");
      StringBuilder text = new StringBuilder();
      for (int i = 0; i < 6; i++) {
        text.append(content(sse.nextData()));
      }
      // The serving worker's node leaves the cluster, as on a crash.
      vertx.eventBus().publish(Addresses.MEMBER_LEFT_LOCAL, first.equals("migrate-m1") ? "node-m1" : "node-m2");
      List<String> rest = sse.remainingData();

      assertThat(rest).last().isEqualTo("[DONE]");
      JsonObject usage = null;
      String finish = null;
      for (String data : rest.subList(0, rest.size() - 1)) {
        JsonObject event = new JsonObject(data);
        assertThat(event.containsKey("error")).as(data).isFalse();
        if (event.getJsonObject("usage") != null) {
          usage = event.getJsonObject("usage");
        }
        text.append(content(data));
        if (!event.getJsonArray("choices").isEmpty()
            && event.getJsonArray("choices").getJsonObject(0).getString("finish_reason") != null) {
          finish = event.getJsonArray("choices").getJsonObject(0).getString("finish_reason");
        }
      }
      assertThat(text.toString()).isEqualTo(unbroken);
      assertThat(finish).isEqualTo("length");
      assertThat(usage.getInteger("completion_tokens")).isEqualTo(40);
    }
    assertThat(get("/metrics").body()).containsPattern("switchboard_stream_migrations_total\\{model=\"migrate-llm\"\\} 1");
  }

  private static String content(String data) {
    JsonArray choices = new JsonObject(data).getJsonArray("choices");
    if (choices == null || choices.isEmpty()) {
      return "";
    }
    return choices.getJsonObject(0).getJsonObject("delta", new JsonObject()).getString("content", "");
  }

  @Test
  void aWorkerThatSendsNoFirstTokenInTimeIsLeftForAnother() throws Exception {
    long started = System.nanoTime();
    // The first pick for a model with no load and no cached prefix is the first worker in id order: ttft-a.
    HttpResponse<String> response = post("/v1/chat/completions", "{\"model\":\"ttft-llm\",\"max_tokens\":3,"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"are you there, slow one?\"}]}");
    long tookMs = (System.nanoTime() - started) / 1_000_000;

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(response.headers().firstValue("x-switchboard-worker")).contains("ttft-b");
    assertThat(tookMs).isGreaterThanOrEqualTo(1400);
    assertThat(get("/metrics").body()).containsPattern("switchboard_worker_attempts_failed_total\\{model=\"ttft-llm\"\\} 1");
    // One failure opens the circuit in this gateway (circuitFailureThreshold 1): the slow worker is kept away.
    JsonObject slow = new JsonObject(get("/admin/cluster").body()).getJsonArray("workers").stream()
        .map(JsonObject.class::cast).filter(w -> w.getString("workerId").equals("ttft-a")).findFirst().orElseThrow();
    assertThat(slow.getJsonObject("circuit").getString("state")).isEqualTo("open");
    assertThat(slow.getJsonObject("circuit").getString("why")).contains("sent no token within 1500 ms");
    long again = System.nanoTime();
    HttpResponse<String> next = post("/v1/chat/completions", "{\"model\":\"ttft-llm\",\"max_tokens\":3,"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"still there?\"}]}");
    assertThat(next.headers().firstValue("x-switchboard-worker")).contains("ttft-b");
    assertThat((System.nanoTime() - again) / 1_000_000).isLessThan(1400);
  }

  @Test
  void requestsForAFullModelWaitTheirTurnInsteadOfGettingBusy() throws Exception {
    String body = "{\"model\":\"queue-llm\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"wait\"}]}";
    List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> responses = new java.util.ArrayList<>();
    for (int i = 0; i < 3; i++) {
      responses.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
          + "/v1/chat/completions")).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
          HttpResponse.BodyHandlers.ofString()));
    }
    for (var response : responses) {
      HttpResponse<String> done = response.get(30, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
    }
    assertThat(get("/metrics").body()).containsPattern("switchboard_admission_queued_total\\{model=\"queue-llm\"\\} [1-9]");
  }

  @Test
  void aRequestThatWaitsTooLongGets503WithRetryAfter() throws Exception {
    try (SseClient holder = new SseClient(port, "/v1/chat/completions", "{\"model\":\"jam-llm\",\"max_tokens\":40,"
        + "\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hold\"}]}", 0)) {
      holder.nextData();
      HttpResponse<String> waited = post("/v1/chat/completions", "{\"model\":\"jam-llm\",\"max_tokens\":5,"
          + "\"messages\":[{\"role\":\"user\",\"content\":\"me too\"}]}");

      assertError(waited, 503, "queue_timeout", "model");
      assertThat(waited.headers().firstValue("retry-after")).isPresent();
      assertThat(new JsonObject(waited.body()).getJsonObject("error").getString("message"))
          .contains("jam-llm").contains("2000 ms").contains("gateway.admissionTimeoutMs");
      assertThat(holder.remainingData()).last().isEqualTo("[DONE]");
    }
  }

  @Test
  void whenTheOnlyWorkersCircuitOpensTheRequestWaitsBoundedForItToRecover() throws Exception {
    long started = System.nanoTime();
    HttpResponse<String> response = post("/v1/chat/completions", "{\"model\":\"flaky-llm\",\"max_tokens\":3,"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"anyone?\"}]}");
    long tookMs = (System.nanoTime() - started) / 1_000_000;

    // No first token in 1.5 s opens the worker's circuit; the request then waits (2 s) for it to recover.
    assertError(response, 503, "queue_timeout", "model");
    assertThat(new JsonObject(response.body()).getJsonObject("error").getString("message")).contains("circuit open");
    assertThat(tookMs).isGreaterThanOrEqualTo(3000);
  }

  @Test
  void aGatewayAtItsInFlightLimitTurnsNewRequestsAwayAtOnce() throws Exception {
    GatewayVerticle small = new GatewayVerticle(new GatewayOptions().setHttpPort(0).setMaxInFlight(1)
        .setRegistryResyncMs(300), ClusterView.standalone("node-g2"), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    String id = vertx.deployVerticle(small).await(30, SECONDS);
    try {
      int smallPort = small.actualPort();
      Eventually.within(ofSeconds(10), "slow-1 is routable from the second gateway",
          () -> routable(smallPort).contains("slow-1"));
      try (SseClient holder = new SseClient(smallPort, "/v1/chat/completions", "{\"model\":\"slow-llm\","
          + "\"max_tokens\":40,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hold\"}]}", 0)) {
        holder.nextData();
        HttpResponse<String> refused = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + smallPort
            + "/v1/chat/completions")).POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"slow-llm\","
            + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build(), HttpResponse.BodyHandlers.ofString());
        assertError(refused, 503, "gateway_overloaded", null);
        assertThat(refused.headers().firstValue("retry-after")).contains("1");
      }
    } finally {
      vertx.undeploy(id).await(30, SECONDS);
    }
  }

  @Test
  void workerVanishingMidStreamEndsTheStreamWithAnErrorAndNoDone() throws Exception {
    try (SseClient sse = new SseClient(port, "/v1/chat/completions", "{\"model\":\"vanish-llm\",\"messages\":"
        + "[{\"role\":\"user\",\"content\":\"cut\"}],\"max_tokens\":2000,\"stream\":true}", 0)) {
      sse.nextData();
      sse.nextData();
      long cut = System.nanoTime();
      vertx.eventBus().publish(Addresses.MEMBER_LEFT_LOCAL, "node-vanish");
      List<String> rest = sse.remainingData();
      long tookMs = (System.nanoTime() - cut) / 1_000_000;
      assertThat(rest).isNotEmpty().doesNotContain("[DONE]");
      JsonObject error = new JsonObject(rest.get(rest.size() - 1)).getJsonObject("error");
      assertThat(error.getString("code")).isEqualTo("worker_failed");
      assertThat(error.getString("message")).contains("vanish-1").contains("node-vanish").contains("left the cluster");
      assertThat(tookMs).isLessThan(2000);
    }
    // The model was served a moment ago: unavailable (503, when and why its worker left), not unknown (404).
    HttpResponse<String> after = post("/v1/chat/completions", "{\"model\":\"vanish-llm\",\"messages\":"
        + "[{\"role\":\"user\",\"content\":\"again\"}]}");
    assertError(after, 503, "model_unavailable", "model");
    assertThat(after.headers().firstValue("retry-after")).isPresent();
    assertThat(new JsonObject(after.body()).getJsonObject("error").getString("message"))
        .contains("worker vanish-1 on node node-vanish left").contains("s ago: node node-vanish left the cluster");
  }

  @Test
  void aLateWithdrawalAnnouncementForAWorkerWhoseRecordStandsKeepsItRoutable() throws Exception {
    // A gateway that re-reads discovery only every minute: what it does comes from the announcements.
    GatewayVerticle late = new GatewayVerticle(new GatewayOptions().setHttpPort(0).setRegistryResyncMs(60_000),
        ClusterView.standalone("node-g3"), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    String gatewayId = vertx.deployVerticle(late).await(30, SECONDS);
    String workerId = vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("late-1")
        .setModel("late-llm").setDrainTimeoutMs(1000).setMocker(new MockerOptions().setDecodeTokensPerSecond(0)),
        "node-w")).await(30, SECONDS);
    ServiceDiscovery discovery = ServiceDiscovery.create(vertx);
    try {
      int latePort = late.actualPort();
      Eventually.within(ofSeconds(5), "late-1 routable", () -> routable(latePort).contains("late-1"));
      // What a node cut off by a partition sends when it drops the records of the members it lost sight of; it
      // arrives after the network healed, while the record stands in the cluster's discovery.
      Record record = discovery.getRecord(r -> r.getMetadata() != null
          && "late-1".equals(r.getMetadata().getString("workerId"))).await(30, SECONDS);
      vertx.eventBus().publish(new ServiceDiscoveryOptions().getAnnounceAddress(),
          new Record(record.toJson()).setRegistration(null).setStatus(Status.DOWN).toJson());
      // For a second of real time (several registry resyncs), it stays routable.
      long until = System.currentTimeMillis() + 1_000;
      while (System.currentTimeMillis() < until) {
        assertThat(routable(latePort)).as("still routed to after a withdrawal its record contradicts")
            .contains("late-1");
        Thread.sleep(50);
      }

      // A real withdrawal (the worker stops and removes its record) still stops routing at once.
      vertx.undeploy(workerId).await(30, SECONDS);
      workerId = null;
      Eventually.within(ofSeconds(5), "late-1 gone after it withdrew", () -> !listed(latePort).contains("late-1"));
    } finally {
      discovery.close();
      if (workerId != null) {
        vertx.undeploy(workerId).await(30, SECONDS);
      }
      vertx.undeploy(gatewayId).await(30, SECONDS);
    }
  }

  private static List<String> listed(int onPort) throws Exception {
    return new JsonObject(get(onPort, "/admin/cluster").body()).getJsonArray("workers").stream()
        .map(JsonObject.class::cast).map(w -> w.getString("workerId")).toList();
  }

  private static List<String> routable(int onPort) throws Exception {
    return new JsonObject(get(onPort, "/admin/cluster").body()).getJsonArray("workers").stream()
        .map(JsonObject.class::cast).filter(w -> "routable".equals(w.getString("status")))
        .map(w -> w.getString("workerId")).toList();
  }

  @Test
  void aFollowUpTurnReturnsToTheWorkerThatCachedTheConversationAndUsageSaysSo() throws Exception {
    for (int conversation = 0; conversation < 3; conversation++) {
      String system = ("You are the assistant of tenant " + conversation + "; answer briefly. ").repeat(20);
      String turn1 = new JsonObject().put("model", "sticky-llm").put("max_tokens", 6).put("messages", new JsonArray()
          .add(new JsonObject().put("role", "system").put("content", system))
          .add(new JsonObject().put("role", "user").put("content", "What is a gateway?"))).encode();
      HttpResponse<String> first = post("/v1/chat/completions", turn1);
      String worker = first.headers().firstValue("x-switchboard-worker").orElseThrow();
      JsonObject answer = new JsonObject(first.body());
      assertThat(answer.getJsonObject("usage").containsKey("prompt_tokens_details")).isFalse();

      JsonObject turn2 = new JsonObject(turn1);
      turn2.getJsonArray("messages")
          .add(new JsonObject().put("role", "assistant").put("content", answer.getJsonArray("choices")
              .getJsonObject(0).getJsonObject("message").getString("content")))
          .add(new JsonObject().put("role", "user").put("content", "And a router?"));
      turn2.put("stream", true).put("stream_options", new JsonObject().put("include_usage", true));
      try (SseClient sse = new SseClient(port, "/v1/chat/completions", turn2.encode(), 0)) {
        assertThat(sse.headers.get("x-switchboard-worker")).isEqualTo(worker);
        List<String> events = sse.remainingData();
        JsonObject usage = new JsonObject(events.get(events.size() - 2)).getJsonObject("usage");
        int cached = usage.getJsonObject("prompt_tokens_details").getInteger("cached_tokens");
        assertThat(cached).isGreaterThan(usage.getInteger("prompt_tokens") / 2)
            .isLessThan(usage.getInteger("prompt_tokens"));
      }
    }
    JsonObject admin = new JsonObject(get("/admin/cluster").body());
    assertThat(admin.getJsonArray("models").stream().map(JsonObject.class::cast)
        .filter(m -> m.getString("model").equals("sticky-llm")).findFirst().orElseThrow()
        .getString("routingPolicy")).isEqualTo("prefix-aware");
    assertThat(get("/metrics").body())
        .containsPattern("switchboard_router_decisions_total\\{model=\"sticky-llm\",policy=\"prefix-aware\","
            + "reason=\"prefix\"\\} [3-9]");
  }

  @Test
  void modelsHealthLiveAdminAndMetrics() throws Exception {
    JsonArray models = new JsonObject(get("/v1/models").body()).getJsonArray("data");
    assertThat(models.stream().map(m -> ((JsonObject) m).getString("id")))
        .contains("mock-llm", "slow-llm", "bulk-llm");
    assertThat(get("/health").statusCode()).isEqualTo(200);
    assertThat(get("/live").statusCode()).isEqualTo(200);
    JsonObject admin = new JsonObject(get("/admin/cluster").body());
    assertThat(admin.getJsonObject("gateway").getString("requestPlane")).isEqualTo("eventbus");
    assertThat(admin.getJsonArray("workers").stream().map(w -> ((JsonObject) w).getString("workerId")))
        .contains("fast-1", "slow-1");
    post("/v1/completions", "{\"model\":\"mock-llm\",\"prompt\":\"count me\",\"max_tokens\":3}");
    String metrics = get("/metrics").body();
    assertThat(metrics).contains("switchboard_requests_total{endpoint=\"completions\",model=\"mock-llm\","
        + "status=\"200\"}");
    assertThat(metrics).contains("switchboard_time_to_first_token_seconds_bucket");
    assertThat(metrics).contains("switchboard_tokens_total{model=\"mock-llm\",type=\"completion\"}");
  }

  private static void assertError(HttpResponse<String> response, int status, String code, String param) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(
        type -> assertThat(type).startsWith("application/json"));
    JsonObject error = new JsonObject(response.body()).getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo(code);
    assertThat(error.getString("param")).isEqualTo(param);
    assertThat(error.getString("message")).isNotBlank();
    assertThat(error.getString("type")).isNotBlank();
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
    return get(port, path);
  }

  private static HttpResponse<String> get(int onPort, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + onPort + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
