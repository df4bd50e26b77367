package io.switchboard.node;

import io.switchboard.gateway.SseClient;
import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.FreePorts;
import io.switchboard.testsupport.LlamaCppBinaries;
import io.switchboard.testsupport.NodeProcess;
import io.switchboard.testsupport.NodeProcesses;
import io.switchboard.worker.llamacpp.LlamaServerTestSupport;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.switchboard.node.ClusterTestSupport.freshCluster;
import static io.switchboard.node.ClusterTestSupport.get;
import static io.switchboard.node.ClusterTestSupport.post;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The llama.cpp quick start with the real binaries: two rpc-agent nodes and one node started with
 * {@code --llama-server-bin --model}, serving the tiny model through the gateway with its layers on the two
 * rpc-servers. Losing an agent shrinks the pool and llama-server restarts on what is left; a new agent grows it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LlamaCppPoolIT {

  private static final String CHAT = "{\"model\":\"tiny-llama\",\"messages\":[{\"role\":\"user\",\"content\":"
      + "\"hello\"}],\"max_tokens\":6}";
  private static final NodeProcesses processes = new NodeProcesses();
  private static final Map<String, String> cluster = new HashMap<>();
  private static final List<Integer> rpcPorts = new ArrayList<>();
  private static final List<NodeProcess> agents = new ArrayList<>();
  private static NodeProcess llamaNode;
  private static int httpPort;
  private static Path bin;
  private static java.net.ServerSocket notAnRpcServer;

  @BeforeAll
  static void startCluster() throws Exception {
    assertThat(NodeProcess.jar()).as("run mvn package first").exists();
    bin = LlamaCppBinaries.directory();
    Path model = LlamaServerTestSupport.tinyModel().toAbsolutePath();
    cluster.putAll(freshCluster("llama"));
    // The first agent, which holds the first cluster port, is killed below: later nodes must be able to join
    // through any of the others, as a real deployment lists several members.
    int firstPort = Integer.parseInt(cluster.get("SWITCHBOARD_CLUSTER_PORT"));
    cluster.put("SWITCHBOARD_CLUSTER_MEMBERS", java.util.stream.IntStream.range(firstPort, firstPort + 6)
        .mapToObj(port -> "127.0.0.1:" + port).collect(java.util.stream.Collectors.joining(",")));
    for (int i = 0; i < 2; i++) {
      startAgent();
    }
    for (int port : rpcPorts) {
      Eventually.within(ofSeconds(60), "rpc-agent :" + port + " announces its server", () -> agentOutput(port)
          .contains("rpc-server published"));
    }
    httpPort = FreePorts.any();
    // A listener that is not an rpc-server, configured as a static candidate: it must be rejected, and say why.
    notAnRpcServer = new java.net.ServerSocket(0);
    Map<String, String> env = new HashMap<>(cluster);
    env.put("SWITCHBOARD_WORKERS_0_LLAMACPP_RPC_POOL_ENDPOINTS", "127.0.0.1:" + notAnRpcServer.getLocalPort());
    llamaNode = processes.launch("llama-node", env, "--http-port", Integer.toString(httpPort),
        "--llama-server-bin", bin.resolve("llama-server").toString(), "--model", model.toString());
    Eventually.within(ofSeconds(90), "the tiny model is served", () -> modelServed());
  }

  private static String agentOutput(int port) throws Exception {
    return agents.get(rpcPorts.indexOf(port)).output();
  }

  private static void startAgent() throws Exception {
    int port = FreePorts.any();
    NodeProcess agent = processes.launch("llama-agent-" + port, cluster, "--roles", "rpc-agent",
        "--rpc-server-bin", bin.resolve("ggml-rpc-server").toString(), "--rpc-port", Integer.toString(port));
    agents.add(agent);
    rpcPorts.add(port);
  }

  @AfterAll
  static void stopAll() throws Exception {
    processes.close();
    if (notAnRpcServer != null) {
      notAnRpcServer.close();
    }
  }

  /** The llamacpp worker's rpc pool as /admin/cluster shows it, by endpoint. */
  private static Map<String, JsonObject> pool() throws Exception {
    Map<String, JsonObject> pool = new HashMap<>();
    new JsonObject(get(httpPort, "/admin/cluster").body()).getJsonArray("workers").stream()
        .map(JsonObject.class::cast).filter(w -> "llamacpp".equals(w.getString("engine")))
        .map(w -> w.getJsonObject("engineStatus"))
        .filter(java.util.Objects::nonNull)
        .flatMap(status -> status.getJsonArray("rpcPool").stream().map(JsonObject.class::cast))
        .forEach(candidate -> pool.put(candidate.getString("endpoint"), candidate));
    return pool;
  }

  private static boolean modelServed() {
    try {
      return get(httpPort, "/v1/models").body().contains("tiny-llama")
          && post(httpPort, "/v1/chat/completions", CHAT).statusCode() == 200;
    } catch (Exception notYet) {
      return false;
    }
  }

  /** The rpc endpoints of the last llama-server the node reported started. */
  private static String lastStartedOn() throws Exception {
    String last = null;
    for (String line : llamaNode.output().split("\n")) {
      if (line.contains("\"llama-server started\"")) {
        last = new JsonObject(line).getValue("rpc").toString();
      }
    }
    return last;
  }

  @Test
  @Order(1)
  void theModelIsServedStreamedAndWholeOverBothRpcServers() throws Exception {
    HttpResponse<String> whole = post(httpPort, "/v1/chat/completions", CHAT);
    assertThat(whole.statusCode()).as(whole.body()).isEqualTo(200);
    assertThat(new JsonObject(whole.body()).getJsonObject("usage").getInteger("completion_tokens")).isEqualTo(6);
    String streaming = CHAT.replace("\"max_tokens\":6}", "\"max_tokens\":6,\"stream\":true}");
    try (SseClient sse = new SseClient(httpPort, "/v1/chat/completions", streaming, 0)) {
      assertThat(sse.status).isEqualTo(200);
      assertThat(sse.remainingData()).last().isEqualTo("[DONE]");
    }
    Eventually.within(ofSeconds(30), "llama-server runs on both rpc-servers", () -> {
      String on = lastStartedOn();
      return on != null && on.contains(":" + rpcPorts.get(0)) && on.contains(":" + rpcPorts.get(1));
    });
    String silent = "127.0.0.1:" + notAnRpcServer.getLocalPort();
    Eventually.within(ofSeconds(15), "/admin/cluster shows the pool: two members, one rejected candidate", () -> {
      Map<String, JsonObject> pool = pool();
      return pool.containsKey(silent) && "rejected".equals(pool.get(silent).getString("state"))
          && "member".equals(pool.getOrDefault("127.0.0.1:" + rpcPorts.get(0), new JsonObject()).getString("state"))
          && "member".equals(pool.getOrDefault("127.0.0.1:" + rpcPorts.get(1), new JsonObject()).getString("state"));
    });
    assertThat(pool().get(silent).getString("reason")).contains("no HELLO reply");
    // doctor sees the same: the handshaken rpc-servers with their protocol version, the rejected one and why.
    ClusterTestSupport.DoctorRun doctor = ClusterTestSupport.doctor("--gateway", "http://127.0.0.1:" + httpPort);
    assertThat(doctor.output()).contains("rpc-server 127.0.0.1:" + rpcPorts.get(0) + " in the pool (protocol ")
        .contains("rpc-server candidate " + silent + " rejected: ").contains("no HELLO reply");
    Eventually.within(ofSeconds(15), "/admin/cluster shows llama-server's own slots and metrics", () -> {
      JsonObject load = new JsonObject(get(httpPort, "/admin/cluster").body()).getJsonArray("workers").stream()
          .map(JsonObject.class::cast).filter(w -> "llamacpp".equals(w.getString("engine"))).findFirst()
          .map(w -> w.getJsonObject("engineStatus", new JsonObject()).getJsonObject("llamaServer",
              new JsonObject()).getJsonObject("load", new JsonObject())).orElse(new JsonObject());
      // (This llama.cpp build exports no KV cache gauge; kvCacheUsage appears where it does.)
      return load.getInteger("slots", 0) == 8 && load.containsKey("requestsProcessing")
          && load.containsKey("requestsDeferred");
    });
  }

  @Test
  @Order(2)
  void losingAnAgentShrinksThePoolAndRequestsSucceedAgainWithin30s() throws Exception {
    agents.get(0).kill();
    long killed = System.nanoTime();
    Eventually.within(ofSeconds(30), "llama-server restarted on the remaining rpc-server", () -> {
      String on = lastStartedOn();
      return on != null && !on.contains(":" + rpcPorts.get(0)) && on.contains(":" + rpcPorts.get(1));
    });
    Eventually.within(ofSeconds(30), "requests succeed again", () -> post(httpPort, "/v1/chat/completions", CHAT)
        .statusCode() == 200);
    System.out.printf("rpc-agent SIGKILLed: serving again on the smaller pool after %d ms%n",
        (System.nanoTime() - killed) / 1_000_000);
  }

  @Test
  @Order(4)
  void aSigkilledRpcServerIsReplacedByItsAgentAndRequestsSucceedAgain() throws Exception {
    int port = rpcPorts.get(1);
    long pid = new JsonObject(get(httpPort, "/admin/cluster").body()).getJsonArray("rpcBackends").stream()
        .map(JsonObject.class::cast).filter(b -> ("127.0.0.1:" + port).equals(b.getString("endpoint")))
        .findFirst().orElseThrow().getLong("pid");
    ProcessHandle.of(pid).orElseThrow().destroyForcibly();
    long killed = System.nanoTime();
    Eventually.within(ofSeconds(30), "requests succeed again", () -> {
      try {
        return post(httpPort, "/v1/chat/completions", CHAT).statusCode() == 200
            && ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true);
      } catch (Exception notYet) {
        return false;
      }
    });
    System.out.printf("rpc-server SIGKILLed: serving again after %d ms%n", (System.nanoTime() - killed) / 1_000_000);
  }

  @Test
  @Order(3)
  void anAgentStartedLaterJoinsThePool() throws Exception {
    startAgent();
    int late = rpcPorts.get(2);
    Eventually.within(ofSeconds(60), "llama-server restarted with the late rpc-server", () -> {
      String on = lastStartedOn();
      return on != null && on.contains(":" + late) && on.contains(":" + rpcPorts.get(1));
    });
    Eventually.within(ofSeconds(30), "requests succeed on the grown pool",
        () -> post(httpPort, "/v1/chat/completions", CHAT)
        .statusCode() == 200);
  }
}
