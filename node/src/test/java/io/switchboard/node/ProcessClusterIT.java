package io.switchboard.node;

import io.switchboard.gateway.SseClient;
import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.FreePorts;
import io.switchboard.testsupport.NodeProcess;
import io.switchboard.testsupport.NodeProcesses;
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
import static io.switchboard.node.ClusterTestSupport.freshCluster;
import static io.switchboard.node.ClusterTestSupport.get;
import static io.switchboard.node.ClusterTestSupport.listedWorkers;
import static io.switchboard.node.ClusterTestSupport.routableWorkers;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The product as a user runs it: separate JVMs of the built jar on loopback. The embedded default plus a
 * worker-only node from conf/worker-mock.yaml share the traffic; SIGKILL of the worker node removes it within
 * 5 s while requests keep succeeding; SIGTERM of a worker node finishes its stream before it exits. The fault
 * scenarios: a stream survives its worker node being SIGKILLed, hanging (SIGSTOP) or outlasting its drain
 * timeout; a SIGTERMed gateway node finishes its streams; a restarted gateway node serves the running workers,
 * and a crashed one's streams are cut visibly and cancelled on the workers. (A dying backend process:
 * BackendFaultIT; a slow client: GatewayApiTest's flow-control test.)
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ProcessClusterIT {

  private static final NodeProcesses processes = new NodeProcesses();
  private static final Map<String, String> cluster = new HashMap<>();
  private static NodeProcess gatewayNode;
  private static int httpPort;

  @BeforeAll
  static void startEmbeddedNode() throws Exception {
    assertThat(NodeProcess.jar()).as("run mvn package first").exists();
    cluster.putAll(freshCluster("it"));
    httpPort = FreePorts.any();
    Map<String, String> env = new HashMap<>(cluster);
    env.put("SWITCHBOARD_WORKERS_0_ID", "embedded-1");
    gatewayNode = processes.launch("embedded", env, "--http-port", Integer.toString(httpPort));
    Eventually.within(ofSeconds(60), "the embedded node serves",
        () -> routableWorkers(httpPort).contains("embedded-1"));
  }

  @AfterAll
  static void stopAll() throws Exception {
    processes.close();
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
    NodeProcess worker = processes.launch("worker-mock", env, "--roles", "worker", "--config", "conf/worker-mock.yaml");
    Eventually.within(ofSeconds(60), "the second worker joins", () -> routableWorkers(httpPort).contains("second-1"));

    List<String> servedBy = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      HttpResponse<String> response = chat(httpPort, "mock-llm", 2);
      assertThat(response.statusCode()).isEqualTo(200);
      servedBy.add(response.headers().firstValue("x-switchboard-worker").orElseThrow());
    }
    assertThat(servedBy).contains("embedded-1", "second-1");

    worker.kill();
    long killed = System.nanoTime();
    Eventually.within(ofSeconds(5), "the killed worker vanishes from /admin/cluster",
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
    NodeProcess worker = processes.launch("worker-drain", env, "--roles", "worker");
    Eventually.within(ofSeconds(60), "the draining worker joins", () -> routableWorkers(httpPort).contains("drain-1"));

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
    Eventually.within(ofSeconds(5), "the drained worker is gone", () -> !listedWorkers(httpPort).contains("drain-1"));
    assertThat(gatewayNode.isAlive()).isTrue();
  }

  @Test
  @Order(4)
  void aStreamSurvivesSigkillOfItsWorkerNodeByContinuingOnAnother() throws Exception {
    Map<String, NodeProcess> workers = launchWorkerPair("survive", Map.of());

    Survived run = streamSurvives(workers, "survive-llm", "go on", 60, NodeProcess::kill, serving -> { });

    System.out.printf("SIGKILLed the serving worker node; the stream went on elsewhere and completed %d ms later%n",
        run.msAfterFault());
  }

  @Test
  @Order(5)
  void aStreamSurvivesItsWorkerNodeHangingBySigstop() throws Exception {
    Map<String, NodeProcess> workers = launchWorkerPair("hang", Map.of());

    Survived run = streamSurvives(workers, "hang-llm", "hold on", 60, serving -> signal(serving, "-STOP"),
        serving -> signal(serving, "-CONT"));

    System.out.printf("SIGSTOPped the serving worker node (a hang); the stream went on elsewhere and completed "
        + "%d ms later%n", run.msAfterFault());
    assertThat(gatewayNode.isAlive()).isTrue();
  }

  @Test
  @Order(6)
  void aStreamLongerThanItsWorkersDrainTimeoutMovesToAnotherWorker() throws Exception {
    Map<String, NodeProcess> workers = launchWorkerPair("short-drain", Map.of("SWITCHBOARD_WORKERS_0_DRAIN_TIMEOUT_MS",
        "1000"));

    // 90 tokens at 30 a second outlast the worker's 1 s drain: at its end the rest moves elsewhere.
    Survived run = streamSurvives(workers, "short-drain-llm", "keep going", 90, NodeProcess::terminate,
        serving -> { });

    assertThat(run.serving().waitForExit(30_000)).isZero();
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

  @Test
  @Order(8)
  void aRestartedGatewayNodeServesTheRunningWorkersAndACrashedOnesStreamsAreStoppedNotLeaked() throws Exception {
    // The gateway node from the start of the class exited in the test above; the worker nodes kept running.
    NodeProcess restarted = restartGatewayNode("embedded-restarted");
    // The restarted node listed only itself, so it formed a cluster of its own: let it merge into the running one
    // (where workers of earlier tests still run) before new nodes join. A merge that meets members
    // still joining stalled in Hazelcast for over 40 s in one CI run (pending partition migrations blocked the
    // merge's cluster-state lock): an operator avoids it by listing two or more members; it is not what this test is about.
    Eventually.within(ofSeconds(60), "the restarted gateway merged into the running cluster",
        () -> routableWorkers(httpPort).stream().anyMatch(id -> !id.equals("embedded-restarted-worker")));
    Map<String, NodeProcess> workers = launchWorkerPair("restart", Map.of());

    // A gateway that crashes mid-stream cannot finish it: the client sees the stream cut (no [DONE]), and the
    // worker stops generating for the vanished gateway instead of holding a slot until the deadline.
    NodeProcess serving;
    try (SseClient sse = new SseClient(httpPort, "/v1/completions", "{\"model\":\"restart-llm\",\"prompt\":\"cut\","
        + "\"max_tokens\":300,\"stream\":true}", 0)) {
      serving = workers.get(sse.headers.get("x-switchboard-worker"));
      sse.nextData();
      restarted.kill();
      List<String> rest = new ArrayList<>();
      try {
        rest.addAll(sse.remainingData());
      } catch (java.io.IOException cut) {
        // what a client sees when the connection breaks mid-stream
      }
      assertThat(rest).doesNotContain("[DONE]");
    }
    try {
      Eventually.within(ofSeconds(15), "the worker cancels the crashed gateway's stream",
          () -> serving.output().contains("its gateway node left the cluster"));
    } catch (AssertionError timedOut) {
      throw new AssertionError(timedOut.getMessage() + "; what the nodes saw of the cluster:\n"
          + clusterEvents(restarted) + clusterEvents(serving), timedOut);
    }

    // The cluster's only listed member was the gateway itself: the restarted node forms a cluster of its own
    // first, then merges into the running one (cluster.xml looks every 5 s); its own worker stays published.
    NodeProcess again = restartGatewayNode("embedded-restarted-2");
    long restartedAt = System.nanoTime();
    Eventually.within(ofSeconds(60), "the restarted gateway sees the running workers and its own",
        () -> routableWorkers(httpPort).containsAll(List.of("restart-1", "restart-2", "embedded-restarted-2-worker")));
    // Right after the merge the event bus may not yet know the workers' addresses (no handlers): wait for a
    // request that is answered.
    Eventually.within(ofSeconds(30), "a request to the running workers is answered",
        () -> ClusterTestSupport.chat(httpPort, "restart-llm", 1).statusCode() == 200);
    System.out.printf("restarted gateway node serves the running worker nodes %d ms after it listened%n",
        (System.nanoTime() - restartedAt) / 1_000_000);
    Survived run = streamSurvives(workers, "restart-llm", "after the restart", 30, serving2 -> { }, s -> { });
    assertThat(run.serving().isAlive()).isTrue();
    // Real time for the cluster's merge after the restart to settle: no event tells the test that it has.
    Thread.sleep(4_000);
    assertThat(routableWorkers(httpPort)).as("still routable once the merge settled")
        .contains("restart-1", "restart-2", "embedded-restarted-2-worker");
    assertThat(again.isAlive()).isTrue();
  }

  /** A new gateway node (with its embedded worker) on the same port, once it serves. */
  private static NodeProcess restartGatewayNode(String name) throws Exception {
    Map<String, String> env = new HashMap<>(cluster);
    env.put("SWITCHBOARD_WORKERS_0_ID", name + "-worker");
    NodeProcess node = processes.launch(name, env, "--http-port", Integer.toString(httpPort));
    Eventually.within(ofSeconds(60), "the restarted gateway node serves",
        () -> routableWorkers(httpPort).contains(name + "-worker"));
    return node;
  }

  /** A node's log lines about membership, merges and generations: why a departure was or was not seen. */
  private static String clusterEvents(NodeProcess node) throws java.io.IOException {
    StringBuilder events = new StringBuilder(node.log.getFileName() + ":\n");
    node.output().lines()
        .filter(line -> line.contains("cluster member") || line.contains("merg") || line.contains("MERG")
            || line.contains("generation") || line.contains("joined the cluster"))
        .map(line -> line.replaceAll("\"(@version|logger_name|thread_name|level_value)\":\"?[^,]*,", ""))
        .map(line -> line.length() > 400 ? line.substring(0, 400) : line)
        .forEach(line -> events.append("  ").append(line).append('\n'));
    return events.toString();
  }

  /** What happens to the worker serving a stream, or undoes it. */
  private interface Fault {
    void apply(NodeProcess serving) throws Exception;
  }

  private record Survived(NodeProcess serving, long msAfterFault) {
  }

  /** Two worker JVMs PREFIX-1 and PREFIX-2 serving PREFIX-llm at 30 tokens/s, once the gateway routes to both. */
  private static Map<String, NodeProcess> launchWorkerPair(String prefix, Map<String, String> extraEnv)
      throws Exception {
    Map<String, NodeProcess> workers = new HashMap<>();
    for (String id : List.of(prefix + "-1", prefix + "-2")) {
      Map<String, String> env = new HashMap<>(cluster);
      env.putAll(extraEnv);
      env.put("SWITCHBOARD_WORKERS_0_ID", id);
      env.put("SWITCHBOARD_WORKERS_0_MODEL", prefix + "-llm");
      env.put("SWITCHBOARD_WORKERS_0_MOCKER_DECODE_TOKENS_PER_SECOND", "30");
      workers.put(id, processes.launch("worker-" + id, env, "--roles", "worker"));
    }
    Eventually.within(ofSeconds(60), "both workers join",
        () -> routableWorkers(httpPort).containsAll(workers.keySet()));
    return workers;
  }

  /**
   * Streams a completion, applies {@code fault} to the serving worker after the first token, and checks that the
   * stream still ends with [DONE], all {@code maxTokens} tokens and the mocker's exact text for the prompt
   * (a function of prompt and seed: nothing repeated, nothing missing). {@code undo} runs at the end.
   */
  private static Survived streamSurvives(Map<String, NodeProcess> workers, String model, String prompt, int maxTokens,
                                         Fault fault, Fault undo) throws Exception {
    try (SseClient sse = new SseClient(httpPort, "/v1/completions", "{\"model\":\"" + model + "\",\"prompt\":\""
        + prompt + "\",\"max_tokens\":" + maxTokens + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}",
        0)) {
      NodeProcess serving = workers.get(sse.headers.get("x-switchboard-worker"));
      StringBuilder text = new StringBuilder(textOf(sse.nextData()));
      long faultAt = System.nanoTime();
      fault.apply(serving);
      try {
        List<String> rest = sse.remainingData();
        long ms = (System.nanoTime() - faultAt) / 1_000_000;
        assertThat(rest).as(serving.output()).last().isEqualTo("[DONE]");
        rest.subList(0, rest.size() - 1).forEach(data -> text.append(textOf(data)));
        assertThat(new io.vertx.core.json.JsonObject(rest.get(rest.size() - 2)).getJsonObject("usage")
            .getInteger("completion_tokens")).isEqualTo(maxTokens);
        HttpResponse<String> whole = ClusterTestSupport.post(httpPort, "/v1/completions",
            "{\"model\":\"" + model + "\",\"prompt\":\"" + prompt + "\",\"max_tokens\":" + maxTokens + "}");
        assertThat(text.toString()).isEqualTo(new io.vertx.core.json.JsonObject(whole.body())
            .getJsonArray("choices").getJsonObject(0).getString("text"));
        return new Survived(serving, ms);
      } finally {
        undo.apply(serving);
      }
    }
  }

  private static void signal(NodeProcess process, String signal) throws Exception {
    assertThat(new ProcessBuilder("kill", signal, Long.toString(process.pid())).start().waitFor()).isZero();
  }

  private static String textOf(String data) {
    io.vertx.core.json.JsonArray choices = new io.vertx.core.json.JsonObject(data).getJsonArray("choices");
    return choices == null || choices.isEmpty() ? "" : choices.getJsonObject(0).getString("text", "");
  }
}
