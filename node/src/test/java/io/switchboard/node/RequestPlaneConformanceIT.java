package io.switchboard.node;

import io.switchboard.gateway.SseClient;
import io.switchboard.protocol.grpc.HealthReply;
import io.switchboard.protocol.grpc.HealthRequest;
import io.switchboard.protocol.grpc.WorkerHealth;
import io.switchboard.protocol.grpc.WorkerPlaneGrpcClient;
import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.FreePorts;
import io.switchboard.testsupport.NodeProcess;
import io.switchboard.testsupport.NodeProcesses;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static io.switchboard.node.ClusterTestSupport.HTTP;
import static io.switchboard.node.ClusterTestSupport.freshCluster;
import static io.switchboard.node.ClusterTestSupport.get;
import static io.switchboard.node.ClusterTestSupport.post;
import static io.switchboard.node.ClusterTestSupport.routableWorkers;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The request-plane conformance suite: the same tests against a gateway on the event-bus plane and a gateway on
 * the gRPC plane, in one cluster of separate JVMs on loopback, in front of the same worker nodes (workers serve
 * both planes). The mocker's text is a function of (seed, prompt), so a streamed answer can be compared with the
 * same request answered whole: a lost, duplicated or reordered chunk shows up as a difference.
 */
class RequestPlaneConformanceIT {

  private static final NodeProcesses processes = new NodeProcesses();
  private static final Map<String, String> cluster = new HashMap<>();
  private static final Map<String, Integer> gatewayPorts = new HashMap<>();

  @BeforeAll
  static void startCluster() throws Exception {
    assertThat(NodeProcess.jar()).as("run mvn package first").exists();
    cluster.putAll(freshCluster("conformance"));
    Path workers = writeConfig("conformance-workers.yaml", """
        node:
          roles: [worker]
        workers:
          - id: conf-instant
            model: instant-llm
            slots: 512
            maxQueue: 1024
            contextLength: 65536
            mocker: {prefillTokensPerSecond: 0, decodeTokensPerSecond: 0, batchSlowdown: 0, seed: 7,
                     minAnswerTokens: 60000, maxAnswerTokens: 60000}
          - id: conf-paced
            model: paced-llm
            slots: 512
            maxQueue: 1024
            contextLength: 8192
            mocker: {prefillTokensPerSecond: 0, decodeTokensPerSecond: 100, batchSlowdown: 0, seed: 7,
                     minAnswerTokens: 8000, maxAnswerTokens: 8000}
          - id: conf-relay
            model: relay-llm
            mocker: {decodeTokensPerSecond: 40}
          - id: conf-wide
            model: wide-llm
            contextLength: 1000000
            mocker: {prefillTokensPerSecond: 0, decodeTokensPerSecond: 0, batchSlowdown: 0}
          - id: conf-narrow
            model: narrow-llm
            contextLength: 8192
            mocker: {prefillTokensPerSecond: 0, decodeTokensPerSecond: 0, batchSlowdown: 0}
        """);
    launch("conformance-workers", Map.of(), "--config", workers.toString());
    for (String plane : List.of("eventbus", "grpc")) {
      int port = FreePorts.any();
      gatewayPorts.put(plane, port);
      launch("conformance-gateway-" + plane, Map.of("SWITCHBOARD_GATEWAY_REQUEST_PLANE", plane),
          "--roles", "gateway", "--http-port", Integer.toString(port));
    }
    for (int port : gatewayPorts.values()) {
      Eventually.within(ofSeconds(90), "the workers are routable from gateway :" + port,
          () -> routableWorkers(port).containsAll(List.of("conf-instant", "conf-paced", "conf-relay", "conf-wide",
              "conf-narrow")));
    }
  }

  @AfterAll
  static void stopCluster() throws Exception {
    processes.close();
  }

  private static NodeProcess launch(String name, Map<String, String> extraEnv, String... args) throws Exception {
    Map<String, String> env = new HashMap<>(cluster);
    env.putAll(extraEnv);
    return processes.launch(name, env, args);
  }

  private static Path writeConfig(String name, String yaml) throws Exception {
    Path dir = Path.of("target", "it-conf").toAbsolutePath();
    Files.createDirectories(dir);
    Path file = dir.resolve(name);
    Files.writeString(file, yaml);
    return file;
  }

  private static String body(String model, int maxTokens, boolean stream, String prompt) {
    JsonObject body = new JsonObject().put("model", model).put("prompt", prompt).put("max_tokens", maxTokens)
        .put("stream", stream);
    if (stream) {
      body.put("stream_options", new JsonObject().put("include_usage", true));
    }
    return body.encode();
  }

  /** The answer as one JSON response: its text and completion tokens. */
  private static JsonObject whole(int port, String model, int maxTokens, String prompt) throws Exception {
    HttpResponse<String> response = post(port, "/v1/completions", body(model, maxTokens, false, prompt));
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return new JsonObject(response.body());
  }

  /** What a streamed answer delivered: the text joined, how many text events, the usage, and how it ended. */
  private record Streamed(String text, int textEvents, int completionTokens, String finishReason, String error,
                          boolean done) {

    static Streamed of(List<String> events) {
      StringBuilder text = new StringBuilder();
      int textEvents = 0;
      int tokens = -1;
      String finish = null;
      String error = null;
      boolean done = false;
      for (String data : events) {
        if ("[DONE]".equals(data)) {
          done = true;
          continue;
        }
        JsonObject event = new JsonObject(data);
        if (event.containsKey("error")) {
          error = event.getJsonObject("error").getString("message");
          continue;
        }
        if (event.getJsonObject("usage") != null) {
          tokens = event.getJsonObject("usage").getInteger("completion_tokens");
        }
        if (!event.getJsonArray("choices").isEmpty()) {
          JsonObject choice = event.getJsonArray("choices").getJsonObject(0);
          String delta = choice.getString("text", "");
          if (!delta.isEmpty()) {
            textEvents++;
            text.append(delta);
          }
          if (choice.getString("finish_reason") != null) {
            finish = choice.getString("finish_reason");
          }
        }
      }
      return new Streamed(text.toString(), textEvents, tokens, finish, error, done);
    }
  }

  private static Streamed stream(int port, String model, int maxTokens, String prompt) throws Exception {
    try (SseClient sse = new SseClient(port, "/v1/completions", body(model, maxTokens, true, prompt), 0)) {
      assertThat(sse.status).isEqualTo(200);
      return Streamed.of(sse.remainingData());
    }
  }

  private static JsonObject worker(int port, String workerId) throws Exception {
    return new JsonObject(get(port, "/admin/cluster").body()).getJsonArray("workers").stream()
        .map(JsonObject.class::cast).filter(w -> workerId.equals(w.getString("workerId"))).findFirst()
        .orElseThrow(() -> new AssertionError(workerId + " is not listed"));
  }

  private static int inFlight(int port, String workerId) throws Exception {
    JsonObject load = worker(port, workerId).getJsonObject("load");
    return load == null ? -1 : load.getInteger("inFlight") + load.getInteger("queued");
  }

  @ParameterizedTest(name = "{0} plane")
  @ValueSource(strings = {"eventbus", "grpc"})
  void adminClusterReportsThePlaneOfEachGateway(String plane) throws Exception {
    JsonObject admin = new JsonObject(get(gatewayPorts.get(plane), "/admin/cluster").body());
    assertThat(admin.getJsonObject("gateway").getString("requestPlane")).isEqualTo(plane);
    Eventually.within(ofSeconds(10), "each gateway sees the other's report", () -> new JsonObject(
        get(gatewayPorts.get(plane), "/admin/cluster").body()).getJsonArray("gateways").size() == 2);
    Map<String, String> planeByHttp = new JsonObject(get(gatewayPorts.get(plane), "/admin/cluster").body())
        .getJsonArray("gateways").stream().map(JsonObject.class::cast)
        .collect(Collectors.toMap(g -> g.getString("http"), g -> g.getString("requestPlane")));
    assertThat(planeByHttp).containsEntry("127.0.0.1:" + gatewayPorts.get("eventbus"), "eventbus")
        .containsEntry("127.0.0.1:" + gatewayPorts.get("grpc"), "grpc");
    assertThat(worker(gatewayPorts.get(plane), "conf-instant").getJsonObject("endpoints").fieldNames())
        .contains("eventbus", "grpc");
  }

  @Test
  void theWorkerNodesGrpcServerAnswersHealthForEveryWorkerOnIt() throws Exception {
    String endpoint = worker(gatewayPorts.get("grpc"), "conf-instant").getJsonObject("endpoints").getString("grpc");
    assertThat(worker(gatewayPorts.get("grpc"), "conf-paced").getJsonObject("endpoints").getString("grpc"))
        .as("one shared server per node").isEqualTo(endpoint);
    int colon = endpoint.lastIndexOf(':');
    Vertx vertx = Vertx.vertx();
    try {
      WorkerPlaneGrpcClient client = WorkerPlaneGrpcClient.create(GrpcClient.client(vertx),
          SocketAddress.inetSocketAddress(Integer.parseInt(endpoint.substring(colon + 1)),
              endpoint.substring(0, colon)));
      HealthReply health = client.health(HealthRequest.getDefaultInstance()).await(10, TimeUnit.SECONDS);
      assertThat(health.getWorkersList()).extracting(WorkerHealth::getWorkerId)
          .containsExactlyInAnyOrder("conf-instant", "conf-paced", "conf-relay", "conf-wide", "conf-narrow");
      assertThat(health.getWorkersList()).allSatisfy(w -> assertThat(w.getAccepting()).isTrue());
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  @ParameterizedTest(name = "{0} plane")
  @ValueSource(strings = {"eventbus", "grpc"})
  void streamedAndWholeAnswersAreTheSameAndAlikeOnBothPlanes(String plane) throws Exception {
    int port = gatewayPorts.get(plane);
    JsonObject whole = whole(port, "paced-llm", 40, "conformance one");
    Streamed streamed = stream(port, "paced-llm", 40, "conformance one");

    String wholeText = whole.getJsonArray("choices").getJsonObject(0).getString("text");
    assertThat(whole.getJsonObject("usage").getInteger("completion_tokens")).isEqualTo(40);
    assertThat(streamed.done()).isTrue();
    assertThat(streamed.error()).isNull();
    assertThat(streamed.finishReason()).isEqualTo("length");
    assertThat(streamed.completionTokens()).isEqualTo(40);
    assertThat(streamed.text()).isEqualTo(wholeText);
    // The other plane answers the same request with the same text: the planes are interchangeable.
    String other = plane.equals("grpc") ? "eventbus" : "grpc";
    assertThat(whole(gatewayPorts.get(other), "paced-llm", 40, "conformance one").getJsonArray("choices")
        .getJsonObject(0).getString("text")).isEqualTo(wholeText);
  }

  /** A chat body of exactly {@code bytes} bytes (ASCII): one user message of filler words. */
  private static String chatBodyOf(String model, int bytes) {
    String empty = new JsonObject().put("model", model).put("max_tokens", 5)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user")
            .put("content", ""))).encode();
    int fill = bytes - empty.length();
    String filler = "large request words ".repeat(fill / 20 + 1).substring(0, fill);
    String body = empty.replace("\"content\":\"\"", "\"content\":\"" + filler + "\"");
    assertThat(body).hasSize(bytes);
    return body;
  }

  /**
   * Bodies from 1 KB up to gateway.maxBodyBytes (1 MiB) and one byte over it, on both planes: the same status on
   * both (200 where the prompt fits the model's context, 400 where it does not, 413 over the limit), no circuit
   * opened, and a normal request served afterwards. The gRPC plane once failed every body over its 256 KiB
   * message limit as the worker's fault: 503 after 30 s, circuits open.
   */
  @Test
  void largeValidRequestsGetTheSameAnswerOnBothPlanesAndOpenNoCircuit() throws Exception {
    int maxBody = 1024 * 1024;
    int[] sizes = {1_000, 100_000, 200_000, 400_000, 900_000, maxBody, maxBody + 1};
    Map<String, List<String>> seen = new HashMap<>();
    for (String plane : List.of("eventbus", "grpc")) {
      int port = gatewayPorts.get(plane);
      List<String> statuses = new ArrayList<>();
      for (int size : sizes) {
        for (String model : List.of("wide-llm", "narrow-llm")) {
          HttpResponse<String> response = post(port, "/v1/chat/completions", chatBodyOf(model, size));
          int expected = size > maxBody ? 413 : model.equals("wide-llm") || size <= 1_000 ? 200 : 400;
          assertThat(response.statusCode()).as("%s plane, %s, %d bytes: %s", plane, model, size, response.body())
              .isEqualTo(expected);
          String code = new JsonObject(response.body()).containsKey("error")
              ? new JsonObject(response.body()).getJsonObject("error").getString("code") : "ok";
          statuses.add(model + " " + size + " -> " + response.statusCode() + " " + code);
        }
      }
      seen.put(plane, statuses);
      JsonArray workers = new JsonObject(get(port, "/admin/cluster").body()).getJsonArray("workers");
      assertThat(workers.stream().map(JsonObject.class::cast)
          .map(w -> w.getString("workerId") + " " + w.getJsonObject("circuit").getString("state")))
          .as("%s plane: every circuit stays closed", plane).allMatch(w -> w.endsWith(" closed"));
      HttpResponse<String> normal = post(port, "/v1/chat/completions", chatBodyOf("wide-llm", 200));
      assertThat(normal.statusCode()).as(normal.body()).isEqualTo(200);
    }
    System.out.println("large requests, both planes: " + seen.get("grpc"));
    assertThat(seen.get("grpc")).isEqualTo(seen.get("eventbus"));
  }

  @ParameterizedTest(name = "{0} plane")
  @ValueSource(strings = {"eventbus", "grpc"})
  void tenThousandTokenAnswersArriveWholeAndInOrder(String plane) throws Exception {
    int port = gatewayPorts.get(plane);
    Streamed streamed = stream(port, "instant-llm", 10_000, "a long one");
    JsonObject whole = whole(port, "instant-llm", 10_000, "a long one");

    assertThat(streamed.error()).isNull();
    assertThat(streamed.done()).isTrue();
    assertThat(streamed.completionTokens()).isEqualTo(10_000);
    assertThat(streamed.textEvents()).isBetween(9_000, 10_000);
    assertThat(whole.getJsonObject("usage").getInteger("completion_tokens")).isEqualTo(10_000);
    assertThat(streamed.text()).isEqualTo(whole.getJsonArray("choices").getJsonObject(0).getString("text"));
  }

  @ParameterizedTest(name = "{0} plane")
  @ValueSource(strings = {"eventbus", "grpc"})
  void twoHundredConcurrentStreamsAllComplete(String plane) throws Exception {
    int port = gatewayPorts.get(plane);
    // Long prompts: 200 calls carry far more than HTTP/2's default 64 KiB connection window, which once stalled
    // the gRPC plane's calls (on one connection) until their acceptance timed out.
    String crowd = "crowd ".repeat(300);
    String expected = whole(port, "paced-llm", 150, crowd).getJsonArray("choices").getJsonObject(0)
        .getString("text");
    List<CompletableFuture<HttpResponse<java.util.stream.Stream<String>>>> calls = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      calls.add(HTTP.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/completions"))
          .timeout(Duration.ofSeconds(60)).header("content-type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(body("paced-llm", 150, true, crowd))).build(),
          HttpResponse.BodyHandlers.ofLines()));
    }
    int peak = 0;
    long until = System.currentTimeMillis() + 3_000;
    while (System.currentTimeMillis() < until && peak < 150) {
      peak = Math.max(peak, new JsonObject(get(port, "/admin/cluster").body()).getJsonObject("gateway")
          .getInteger("openStreams"));
      Thread.sleep(50);
    }
    List<Streamed> results = new ArrayList<>();
    for (CompletableFuture<HttpResponse<java.util.stream.Stream<String>>> call : calls) {
      HttpResponse<java.util.stream.Stream<String>> response = call.get(60, TimeUnit.SECONDS);
      assertThat(response.statusCode()).isEqualTo(200);
      results.add(Streamed.of(response.body().filter(line -> line.startsWith("data: "))
          .map(line -> line.substring(6)).toList()));
    }
    System.out.printf("%s plane: %d concurrent streams, at most %d open at once in the gateway%n", plane,
        results.size(), peak);
    assertThat(peak).as("the streams really ran side by side").isGreaterThanOrEqualTo(100);
    assertThat(results).allSatisfy(result -> {
      assertThat(result.error()).isNull();
      assertThat(result.done()).isTrue();
      assertThat(result.completionTokens()).isEqualTo(150);
      assertThat(result.text()).isEqualTo(expected);
    });
  }

  @ParameterizedTest(name = "{0} plane")
  @ValueSource(strings = {"eventbus", "grpc"})
  void aClientThatHangsUpStopsTheGenerationOnTheWorker(String plane) throws Exception {
    int port = gatewayPorts.get(plane);
    Eventually.within(ofSeconds(10), "the paced worker is idle", () -> inFlight(port, "conf-paced") == 0);
    try (SseClient sse = new SseClient(port, "/v1/completions", body("paced-llm", 6_000, true, "hang up"), 0)) {
      sse.nextData();
      sse.nextData();
      Eventually.within(ofSeconds(5), "the worker reports the generation", () -> inFlight(port, "conf-paced") == 1);
    }
    long hungUp = System.nanoTime();
    // 6,000 tokens at 100 per second would run for a minute: only a cancellation ends it this soon.
    Eventually.within(ofSeconds(5), "the worker stopped generating", () -> inFlight(port, "conf-paced") == 0
        && new JsonObject(get(port, "/admin/cluster").body()).getJsonObject("gateway").getInteger("openStreams") == 0);
    System.out.printf("%s plane: worker idle again %.0f ms after the client hung up (load reports every 1 s)%n",
        plane, (System.nanoTime() - hungUp) / 1e6);
  }

  @ParameterizedTest(name = "{0} plane")
  @ValueSource(strings = {"eventbus", "grpc"})
  void aSlowClientHoldsTheWorkerBackAndStillGetsEveryChunk(String plane) throws Exception {
    int port = gatewayPorts.get(plane);
    Eventually.within(ofSeconds(10), "the instant worker is idle", () -> inFlight(port, "conf-instant") == 0);
    String prompt = "slow reader " + plane;
    String expected = whole(port, "instant-llm", 40_000, prompt).getJsonArray("choices").getJsonObject(0)
        .getString("text");
    try (SseClient sse = new SseClient(port, "/v1/completions", body("instant-llm", 40_000, true, prompt), 4096)) {
      List<String> events = new ArrayList<>();
      events.add(sse.nextData());
      // An instant engine finishes 40,000 tokens in well under a second unless flow control holds it back.
      Thread.sleep(2_500);
      assertThat(inFlight(port, "conf-instant")).as("the worker is held back while the client does not read")
          .isEqualTo(1);
      events.addAll(sse.remainingData());
      Streamed streamed = Streamed.of(events);
      assertThat(streamed.error()).isNull();
      assertThat(streamed.done()).isTrue();
      assertThat(streamed.completionTokens()).isEqualTo(40_000);
      assertThat(streamed.text()).isEqualTo(expected);
    }
  }

  @ParameterizedTest(name = "{0} plane")
  @ValueSource(strings = {"eventbus", "grpc"})
  void aWorkerKilledMidStreamEndsTheStreamWithAnErrorPromptly(String plane) throws Exception {
    int port = gatewayPorts.get(plane);
    String model = "doomed-" + plane;
    NodeProcess doomed = launch("conformance-doomed-" + plane, Map.of(
        "SWITCHBOARD_WORKERS_0_ID", "doomed-" + plane,
        "SWITCHBOARD_WORKERS_0_MODEL", model,
        "SWITCHBOARD_WORKERS_0_MOCKER_DECODE_TOKENS_PER_SECOND", "50"), "--roles", "worker");
    Eventually.within(ofSeconds(60), "the doomed worker joins",
        () -> routableWorkers(port).contains("doomed-" + plane));
    try (SseClient sse = new SseClient(port, "/v1/completions", body(model, 2_000, true, "doom"), 0)) {
      assertThat(sse.nextData()).contains("\"text\"");
      doomed.kill();
      long killed = System.nanoTime();
      Streamed rest = Streamed.of(sse.remainingData());
      long detectedMs = (System.nanoTime() - killed) / 1_000_000;
      System.out.printf("%s plane: stream failed %d ms after its worker's JVM was SIGKILLed%n", plane, detectedMs);
      assertThat(rest.done()).as("a cut stream must not end as if complete").isFalse();
      assertThat(rest.error()).contains("doomed-" + plane);
      assertThat(detectedMs).isLessThan(10_000);
    }
  }

  @ParameterizedTest(name = "{0} plane")
  @ValueSource(strings = {"eventbus", "grpc"})
  void aStreamWhoseWorkerIsKilledContinuesOnAnotherWorker(String plane) throws Exception {
    int port = gatewayPorts.get(plane);
    String doomedId = "relay-doomed-" + plane;
    NodeProcess doomed = launch("conformance-relay-" + plane, Map.of(
        "SWITCHBOARD_WORKERS_0_ID", doomedId,
        "SWITCHBOARD_WORKERS_0_MODEL", "relay-llm",
        "SWITCHBOARD_WORKERS_0_MOCKER_DECODE_TOKENS_PER_SECOND", "40"), "--roles", "worker");
    Eventually.within(ofSeconds(60), "the doomed relay worker joins", () -> routableWorkers(port).contains(doomedId));

    // Either relay worker may take a stream: ask until the doomed one serves (a new prompt each time, so
    // prefix affinity does not send every try to the same worker).
    for (int attempt = 0; attempt < 20; attempt++) {
      String prompt = "relay " + plane + " " + attempt;
      try (SseClient sse = new SseClient(port, "/v1/completions", body("relay-llm", 80, true, prompt), 0)) {
        if (!doomedId.equals(sse.headers.get("x-switchboard-worker"))) {
          continue;
        }
        List<String> events = new ArrayList<>();
        events.add(sse.nextData());
        doomed.kill();
        events.addAll(sse.remainingData());
        Streamed streamed = Streamed.of(events);
        assertThat(streamed.error()).isNull();
        assertThat(streamed.done()).isTrue();
        assertThat(streamed.completionTokens()).isEqualTo(80);
        assertThat(streamed.text()).as("nothing repeated, nothing missing")
            .isEqualTo(whole(port, "relay-llm", 80, prompt).getJsonArray("choices").getJsonObject(0)
                .getString("text"));
        return;
      }
    }
    throw new AssertionError("the doomed relay worker never served a stream in 20 tries");
  }
}
