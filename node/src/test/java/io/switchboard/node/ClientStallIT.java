package io.switchboard.node;

import io.switchboard.gateway.StalledReader;
import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.FreePorts;
import io.switchboard.testsupport.NodeProcess;
import io.switchboard.testsupport.NodeProcesses;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.switchboard.node.ClusterTestSupport.freshCluster;
import static io.switchboard.node.ClusterTestSupport.get;
import static io.switchboard.node.ClusterTestSupport.post;
import static io.switchboard.node.ClusterTestSupport.routableWorkers;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client that stops reading a long stream, on both request planes, over real JVMs: a zero-latency mocker worker
 * node streams a 130,000-token answer (about 29 MB of SSE, far more than the sockets' buffers hold) to a
 * client with a 4 KiB receive buffer that reads the first events and then nothing. The worker, held back by the
 * plane's flow control (event-bus credits, HTTP/2 windows), waits; the gateway gives up on the client after
 * gateway.limits.clientStallTimeoutMs (2 s here): it closes the connection, counts 499, cancels the generation (the
 * worker's slot is free again), and counts nothing against the worker. The gateways' stream idle timeout (1 s) is
 * shorter than the stall timeout, so a gateway that mistook the held-back worker for a silent one would fail the
 * stream as the worker's fault (its circuit opens at the first failure here) and migrate it first.
 */
class ClientStallIT {

  private static final String WORKER = "stall-instant";
  private static final String MODEL = "stall-llm";
  private static final NodeProcesses processes = new NodeProcesses();
  private static final Map<String, Integer> gatewayPorts = new HashMap<>();

  @BeforeAll
  static void startCluster() throws Exception {
    assertThat(NodeProcess.jar()).as("run mvn package first").exists();
    Map<String, String> cluster = freshCluster("stall");
    Path dir = Path.of("target", "it-conf").toAbsolutePath();
    Files.createDirectories(dir);
    Path workers = dir.resolve("client-stall-worker.yaml");
    Files.writeString(workers, """
        node:
          roles: [worker]
        workers:
          - id: %s
            model: %s
            slots: 8
            contextLength: 400000
            mocker: {prefillTokensPerSecond: 0, decodeTokensPerSecond: 0, batchSlowdown: 0, seed: 7,
                     minAnswerTokens: 200000, maxAnswerTokens: 200000}
        """.formatted(WORKER, MODEL));
    processes.launch("client-stall-worker", cluster, "--config", workers.toString());
    for (String plane : List.of("eventbus", "grpc")) {
      int port = FreePorts.any();
      gatewayPorts.put(plane, port);
      Map<String, String> env = new HashMap<>(cluster);
      env.putAll(Map.of(
          "SWITCHBOARD_GATEWAY_REQUEST_PLANE", plane,
          "SWITCHBOARD_GATEWAY_LIMITS_CLIENT_STALL_TIMEOUT_MS", "2000",
          "SWITCHBOARD_GATEWAY_STREAM_IDLE_TIMEOUT_MS", "1000",
          "SWITCHBOARD_GATEWAY_CIRCUIT_FAILURE_THRESHOLD", "1"));
      processes.launch("client-stall-gateway-" + plane, env, "--roles", "gateway", "--http-port",
          Integer.toString(port));
    }
    for (int port : gatewayPorts.values()) {
      Eventually.within(ofSeconds(90), "the worker is routable from gateway :" + port,
          () -> routableWorkers(port).contains(WORKER));
    }
  }

  @AfterAll
  static void stopCluster() throws Exception {
    processes.close();
  }

  @ParameterizedTest(name = "{0} plane")
  @ValueSource(strings = {"eventbus", "grpc"})
  void aClientThatStopsReadingIsCutOffWith499AndTheWorkerIsNotBlamed(String plane) throws Exception {
    int port = gatewayPorts.get(plane);
    Eventually.within(ofSeconds(10), "the worker is idle", () -> inFlight(port) == 0);
    long stalledBefore = requests(port, "499");
    String body = new JsonObject().put("model", MODEL).put("prompt", "stall " + plane).put("max_tokens", 130_000)
        .put("stream", true).encode();
    try (StalledReader client = new StalledReader(port, "/v1/completions", body, 4096, 2000)) {
      assertThat(client.status).as(client.head).isEqualTo(200);
      assertThat(client.headers.get("x-switchboard-worker")).isEqualTo(WORKER);
      // The stream stays open while the worker is held back, until the gateway gives up on it.
      Eventually.within(ofSeconds(30), "the gateway closed the stream to the worker", () -> openStreams(port) == 0);
      Eventually.within(ofSeconds(10), "the worker's generation was stopped", () -> inFlight(port) == 0);
      StalledReader.Ending ending = client.readOn(10_000);
      System.out.printf("%s plane: stalled client's connection %s (%d more bytes read)%n", plane, ending.how(),
          ending.bytesAfterStall());

      JsonObject circuit = worker(port).getJsonObject("circuit");
      assertThat(circuit.getString("lastFailure")).as("nothing counted against the worker: " + circuit).isNull();
      assertThat(circuit.getString("state")).isEqualTo("closed");
      assertThat(get(port, "/metrics").body()).as("nothing migrated")
          .doesNotContainPattern("switchboard_stream_migrations_total\\{model=\"" + MODEL + "\"\\} [1-9]");
      assertThat(ending.closedByServer()).as(ending.how()).isTrue();
      assertThat(ending.bytesAfterStall()).as("the gateway dropped what the client had not read, in its buffers and "
          + "the kernel's").isLessThan(64 * 1024);
    }
    assertThat(requests(port, "499")).isEqualTo(stalledBefore + 1);
    HttpResponse<String> next = post(port, "/v1/completions", new JsonObject().put("model", MODEL)
        .put("prompt", "and now?").put("max_tokens", 5).encode());
    assertThat(next.statusCode()).as(next.body()).isEqualTo(200);
    assertThat(next.headers().firstValue("x-switchboard-worker")).contains(WORKER);
  }

  private static JsonObject worker(int port) throws Exception {
    return new JsonObject(get(port, "/admin/cluster").body()).getJsonArray("workers").stream()
        .map(JsonObject.class::cast).filter(w -> WORKER.equals(w.getString("workerId"))).findFirst()
        .orElseThrow(() -> new AssertionError(WORKER + " is not listed"));
  }

  private static int openStreams(int port) throws Exception {
    return new JsonObject(get(port, "/admin/cluster").body()).getJsonObject("gateway").getInteger("openStreams");
  }

  /** Running and queued generations on the worker, from its last load report. */
  private static int inFlight(int port) throws Exception {
    JsonObject load = worker(port).getJsonObject("load");
    return load == null ? -1 : load.getInteger("inFlight") + load.getInteger("queued");
  }

  private static long requests(int port, String status) throws Exception {
    Matcher matcher = Pattern.compile("switchboard_requests_total\\{endpoint=\"completions\",model=\"" + MODEL
        + "\",status=\"" + status + "\"} ([0-9.]+)").matcher(get(port, "/metrics").body());
    return matcher.find() ? (long) Double.parseDouble(matcher.group(1)) : 0;
  }
}
