package io.switchboard.node;

import io.switchboard.gateway.SseClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.switchboard.node.ClusterTestSupport.chat;
import static io.switchboard.node.ClusterTestSupport.freePort;
import static io.switchboard.node.ClusterTestSupport.freshCluster;
import static io.switchboard.node.ClusterTestSupport.get;
import static io.switchboard.node.ClusterTestSupport.listedWorkers;
import static io.switchboard.node.ClusterTestSupport.routableWorkers;
import static io.switchboard.node.ClusterTestSupport.waitUntil;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The product as a user runs it: separate JVMs of the built jar on loopback. The embedded default plus a
 * worker-only node from conf/worker-mock.yaml share the traffic; SIGKILL of the worker node removes it within
 * 5 s while requests keep succeeding; SIGTERM of a worker node finishes its stream before it exits.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ProcessClusterIT {

  private static final List<NodeProcess> processes = new ArrayList<>();
  private static final Map<String, String> cluster = new HashMap<>();
  private static NodeProcess gatewayNode;
  private static int httpPort;

  @BeforeAll
  static void startEmbeddedNode() throws Exception {
    assertThat(NodeProcess.jar()).as("run mvn package first").exists();
    cluster.putAll(freshCluster("it"));
    httpPort = freePort();
    Map<String, String> env = new HashMap<>(cluster);
    env.put("SWITCHBOARD_WORKERS_0_ID", "embedded-1");
    gatewayNode = launch("embedded", env, "--http-port", Integer.toString(httpPort));
    waitUntil("the embedded node serves", 60_000, () -> routableWorkers(httpPort).contains("embedded-1"));
  }

  @AfterAll
  static void stopAll() throws Exception {
    for (NodeProcess process : processes) {
      process.close();
    }
  }

  private static NodeProcess launch(String name, Map<String, String> env, String... args) throws Exception {
    NodeProcess process = new NodeProcess(name, env, args);
    processes.add(process);
    return process;
  }

  @Test
  @Order(1)
  void embeddedDefaultStreamsChatEndingWithDone() throws Exception {
    assertThat(get(httpPort, "/health").statusCode()).isEqualTo(200);
    try (SseClient sse = new SseClient(httpPort, "/v1/chat/completions", "{\"model\":\"mock-llm\",\"messages\":"
        + "[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true}", 0)) {
      assertThat(sse.status).isEqualTo(200);
      assertThat(sse.remainingData()).last().isEqualTo("[DONE]");
    }
  }

  @Test
  @Order(2)
  void secondWorkerJvmJoinsTakesTrafficAndIsForgottenWithin5sOfSigkill() throws Exception {
    Map<String, String> env = new HashMap<>(cluster);
    env.put("SWITCHBOARD_WORKERS_0_ID", "second-1");
    NodeProcess worker = launch("worker-mock", env, "--roles", "worker", "--config", "conf/worker-mock.yaml");
    waitUntil("the second worker joins", 60_000, () -> routableWorkers(httpPort).contains("second-1"));

    List<String> servedBy = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      HttpResponse<String> response = chat(httpPort, "mock-llm", 2);
      assertThat(response.statusCode()).isEqualTo(200);
      servedBy.add(response.headers().firstValue("x-switchboard-worker").orElseThrow());
    }
    assertThat(servedBy).contains("embedded-1", "second-1");

    worker.kill();
    long killed = System.nanoTime();
    waitUntil("the killed worker vanishes from /admin/cluster", 5_000,
        () -> !listedWorkers(httpPort).contains("second-1"));
    System.out.printf("SIGKILLed worker node gone from /admin/cluster after %.0f ms%n",
        (System.nanoTime() - killed) / 1e6);
    for (int i = 0; i < 8; i++) {
      HttpResponse<String> response = chat(httpPort, "mock-llm", 2);
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      assertThat(response.headers().firstValue("x-switchboard-worker")).contains("embedded-1");
    }
  }

  @Test
  @Order(3)
  void sigtermOnAWorkerNodeFinishesItsStreamBeforeExiting() throws Exception {
    Map<String, String> env = new HashMap<>(cluster);
    env.put("SWITCHBOARD_WORKERS_0_ID", "drain-1");
    env.put("SWITCHBOARD_WORKERS_0_MODEL", "drain-llm");
    env.put("SWITCHBOARD_WORKERS_0_MOCKER_DECODE_TOKENS_PER_SECOND", "30");
    NodeProcess worker = launch("worker-drain", env, "--roles", "worker");
    waitUntil("the draining worker joins", 60_000, () -> routableWorkers(httpPort).contains("drain-1"));

    try (SseClient sse = new SseClient(httpPort, "/v1/completions", "{\"model\":\"drain-llm\",\"prompt\":\"go\","
        + "\"max_tokens\":45,\"stream\":true}", 0)) {
      sse.nextData();
      worker.terminate();
      List<String> rest = sse.remainingData();
      assertThat(rest).as(worker.output()).last().isEqualTo("[DONE]");
      assertThat(rest.stream().filter(e -> e.contains("\"text\":\"") && !e.contains("\"text\":\"\"")).count() + 1)
          .isEqualTo(45);
    }
    assertThat(worker.waitForExit(30_000)).isZero();
    assertThat(worker.output()).contains("worker unpublished").contains("node stopped");
    waitUntil("the drained worker is gone", 5_000, () -> !listedWorkers(httpPort).contains("drain-1"));
    assertThat(gatewayNode.isAlive()).isTrue();
  }

  @Test
  @Order(4)
  void aStreamSurvivesSigkillOfItsWorkerNodeByContinuingOnAnother() throws Exception {
    Map<String, NodeProcess> workers = new HashMap<>();
    for (String id : List.of("survive-1", "survive-2")) {
      Map<String, String> env = new HashMap<>(cluster);
      env.put("SWITCHBOARD_WORKERS_0_ID", id);
      env.put("SWITCHBOARD_WORKERS_0_MODEL", "survive-llm");
      env.put("SWITCHBOARD_WORKERS_0_MOCKER_DECODE_TOKENS_PER_SECOND", "30");
      workers.put(id, launch("worker-" + id, env, "--roles", "worker"));
    }
    waitUntil("both workers join", 60_000,
        () -> routableWorkers(httpPort).containsAll(List.of("survive-1", "survive-2")));

    try (SseClient sse = new SseClient(httpPort, "/v1/completions", "{\"model\":\"survive-llm\",\"prompt\":\"go on\","
        + "\"max_tokens\":60,\"stream\":true,\"stream_options\":{\"include_usage\":true}}", 0)) {
      NodeProcess serving = workers.get(sse.headers.get("x-switchboard-worker"));
      StringBuilder text = new StringBuilder(textOf(sse.nextData()));
      text.append(textOf(sse.nextData()));
      long killed = System.nanoTime();
      serving.kill();
      List<String> rest = sse.remainingData();
      System.out.printf("SIGKILLed the serving worker node; the stream went on elsewhere and completed %.0f ms "
          + "later%n", (System.nanoTime() - killed) / 1e6);

      assertThat(rest).as(serving.output()).last().isEqualTo("[DONE]");
      rest.subList(0, rest.size() - 1).forEach(data -> text.append(textOf(data)));
      io.vertx.core.json.JsonObject usage = new io.vertx.core.json.JsonObject(rest.get(rest.size() - 2))
          .getJsonObject("usage");
      assertThat(usage.getInteger("completion_tokens")).isEqualTo(60);
      // The mocker's text is a function of the prompt and seed: nothing repeated, nothing missing.
      HttpResponse<String> whole = ClusterTestSupport.post(httpPort, "/v1/completions",
          "{\"model\":\"survive-llm\",\"prompt\":\"go on\",\"max_tokens\":60}");
      assertThat(text.toString()).isEqualTo(new io.vertx.core.json.JsonObject(whole.body())
          .getJsonArray("choices").getJsonObject(0).getString("text"));
    }
  }

  @Test
  @Order(5)
  void aStreamSurvivesItsWorkerNodeHangingBySigstop() throws Exception {
    Map<String, NodeProcess> workers = new HashMap<>();
    for (String id : List.of("hang-1", "hang-2")) {
      Map<String, String> env = new HashMap<>(cluster);
      env.put("SWITCHBOARD_WORKERS_0_ID", id);
      env.put("SWITCHBOARD_WORKERS_0_MODEL", "hang-llm");
      env.put("SWITCHBOARD_WORKERS_0_MOCKER_DECODE_TOKENS_PER_SECOND", "30");
      workers.put(id, launch("worker-" + id, env, "--roles", "worker"));
    }
    waitUntil("both workers join", 60_000,
        () -> routableWorkers(httpPort).containsAll(List.of("hang-1", "hang-2")));

    try (SseClient sse = new SseClient(httpPort, "/v1/completions", "{\"model\":\"hang-llm\",\"prompt\":\"hold on\","
        + "\"max_tokens\":60,\"stream\":true,\"stream_options\":{\"include_usage\":true}}", 0)) {
      NodeProcess serving = workers.get(sse.headers.get("x-switchboard-worker"));
      StringBuilder text = new StringBuilder(textOf(sse.nextData()));
      long stopped = System.nanoTime();
      signal(serving, "-STOP");
      try {
        List<String> rest = sse.remainingData();
        System.out.printf("SIGSTOPped the serving worker node (a hang); the stream went on elsewhere and completed "
            + "%.0f ms later%n", (System.nanoTime() - stopped) / 1e6);
        assertThat(rest).last().isEqualTo("[DONE]");
        rest.subList(0, rest.size() - 1).forEach(data -> text.append(textOf(data)));
        assertThat(new io.vertx.core.json.JsonObject(rest.get(rest.size() - 2)).getJsonObject("usage")
            .getInteger("completion_tokens")).isEqualTo(60);
        HttpResponse<String> whole = ClusterTestSupport.post(httpPort, "/v1/completions",
            "{\"model\":\"hang-llm\",\"prompt\":\"hold on\",\"max_tokens\":60}");
        assertThat(text.toString()).isEqualTo(new io.vertx.core.json.JsonObject(whole.body())
            .getJsonArray("choices").getJsonObject(0).getString("text"));
      } finally {
        signal(serving, "-CONT");
      }
    }
    assertThat(gatewayNode.isAlive()).isTrue();
  }

  @Test
  @Order(6)
  void aStreamLongerThanItsWorkersDrainTimeoutMovesToAnotherWorker() throws Exception {
    Map<String, NodeProcess> workers = new HashMap<>();
    for (String id : List.of("short-drain-1", "short-drain-2")) {
      Map<String, String> env = new HashMap<>(cluster);
      env.put("SWITCHBOARD_WORKERS_0_ID", id);
      env.put("SWITCHBOARD_WORKERS_0_MODEL", "short-drain-llm");
      env.put("SWITCHBOARD_WORKERS_0_DRAIN_TIMEOUT_MS", "1000");
      env.put("SWITCHBOARD_WORKERS_0_MOCKER_DECODE_TOKENS_PER_SECOND", "30");
      workers.put(id, launch("worker-" + id, env, "--roles", "worker"));
    }
    waitUntil("both workers join", 60_000,
        () -> routableWorkers(httpPort).containsAll(List.of("short-drain-1", "short-drain-2")));

    try (SseClient sse = new SseClient(httpPort, "/v1/completions", "{\"model\":\"short-drain-llm\","
        + "\"prompt\":\"keep going\",\"max_tokens\":90,\"stream\":true,\"stream_options\":{\"include_usage\":true}}", 0)) {
      NodeProcess serving = workers.get(sse.headers.get("x-switchboard-worker"));
      StringBuilder text = new StringBuilder(textOf(sse.nextData()));
      // 90 tokens at 30 a second outlast the worker's 1 s drain: at its end the rest moves elsewhere.
      serving.terminate();
      List<String> rest = sse.remainingData();
      assertThat(rest).as(serving.output()).last().isEqualTo("[DONE]");
      rest.subList(0, rest.size() - 1).forEach(data -> text.append(textOf(data)));
      assertThat(new io.vertx.core.json.JsonObject(rest.get(rest.size() - 2)).getJsonObject("usage")
          .getInteger("completion_tokens")).isEqualTo(90);
      HttpResponse<String> whole = ClusterTestSupport.post(httpPort, "/v1/completions",
          "{\"model\":\"short-drain-llm\",\"prompt\":\"keep going\",\"max_tokens\":90}");
      assertThat(text.toString()).isEqualTo(new io.vertx.core.json.JsonObject(whole.body())
          .getJsonArray("choices").getJsonObject(0).getString("text"));
      assertThat(serving.waitForExit(30_000)).isZero();
    }
  }

  @Test
  @Order(7)
  void sigtermOnTheGatewayNodeLetsItsOpenStreamsFinish() throws Exception {
    try (SseClient sse = new SseClient(httpPort, "/v1/completions", "{\"model\":\"survive-llm\",\"prompt\":\"last one\","
        + "\"max_tokens\":45,\"stream\":true}", 0)) {
      sse.nextData();
      gatewayNode.terminate();
      List<String> rest = sse.remainingData();
      assertThat(rest).as(gatewayNode.output()).last().isEqualTo("[DONE]");
      assertThat(rest.stream().filter(e -> e.contains("\"text\":\"") && !e.contains("\"text\":\"\"")).count() + 1)
          .isEqualTo(45);
    }
    assertThat(gatewayNode.waitForExit(30_000)).isZero();
    assertThat(gatewayNode.output()).contains("gateway draining");
  }

  private static void signal(NodeProcess process, String signal) throws Exception {
    assertThat(new ProcessBuilder("kill", signal, Long.toString(process.pid())).start().waitFor()).isZero();
  }

  private static String textOf(String data) {
    io.vertx.core.json.JsonArray choices = new io.vertx.core.json.JsonObject(data).getJsonArray("choices");
    return choices == null || choices.isEmpty() ? "" : choices.getJsonObject(0).getString("text", "");
  }
}
