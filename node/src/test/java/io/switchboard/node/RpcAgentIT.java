package io.switchboard.node;

import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.FreePorts;
import io.switchboard.testsupport.LlamaCppBinaries;
import io.switchboard.testsupport.NodeProcess;
import io.switchboard.testsupport.NodeProcesses;
import io.switchboard.worker.rpc.RpcProbe;
import io.switchboard.worker.rpc.RpcProbeResult;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static io.switchboard.node.ClusterTestSupport.freshCluster;
import static io.switchboard.node.ClusterTestSupport.get;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The rpc-agent role with the real ggml-rpc-server (tools/build-llama-cpp): it announces the server once it
 * answers the handshake, withdraws and restarts it when it dies, and takes it down with it even when its own
 * JVM is SIGKILLed.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RpcAgentIT {

  private static final NodeProcesses processes = new NodeProcesses();
  private static final Map<String, String> cluster = new HashMap<>();
  private static int httpPort;
  private static int rpcPort;
  private static NodeProcess agent;
  private static Path rpcServerBin;

  @BeforeAll
  static void startGatewayAndAgent() throws Exception {
    assertThat(NodeProcess.jar()).as("run mvn package first").exists();
    rpcServerBin = LlamaCppBinaries.directory().resolve("ggml-rpc-server");
    cluster.putAll(freshCluster("rpc"));
    httpPort = FreePorts.any();
    rpcPort = FreePorts.any();
    processes.launch("rpc-gateway", cluster, "--http-port", Integer.toString(httpPort));
    agent = processes.launch("rpc-agent", cluster, "--roles", "rpc-agent", "--rpc-server-bin",
        rpcServerBin.toString(), "--rpc-port", Integer.toString(rpcPort));
  }

  @AfterAll
  static void stopAll() throws Exception {
    processes.close();
  }

  private static Optional<JsonObject> announced() {
    try {
      return new JsonObject(get(httpPort, "/admin/cluster").body()).getJsonArray("rpcBackends").stream()
          .map(JsonObject.class::cast).filter(b -> ("127.0.0.1:" + rpcPort).equals(b.getString("endpoint")))
          .findFirst();
    } catch (Exception notUpYet) {
      return Optional.empty();
    }
  }

  @Test
  @Order(1)
  void theAgentAnnouncesARealRpcServerThatPassesTheHandshake() throws Exception {
    Eventually.within(ofSeconds(60), "the rpc-server is announced", () -> announced().isPresent());
    JsonObject backend = announced().orElseThrow();
    assertThat(backend.getString("protocolVersion")).startsWith(RpcProbe.DEFAULT_PROTOCOL_MAJOR + ".");
    assertThat(backend.getJsonArray("devices")).isNotEmpty();
    assertThat(backend.getLong("pid")).isPositive();

    Vertx vertx = Vertx.vertx();
    try {
      RpcProbeResult probed = new RpcProbe(vertx).handshake("127.0.0.1", rpcPort).await(10, TimeUnit.SECONDS);
      assertThat(probed.accepted()).as(String.valueOf(probed.reason())).isTrue();
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  @Order(2)
  void aKilledRpcServerIsWithdrawnAtOnceAndRestarted() throws Exception {
    long pid = announced().orElseThrow().getLong("pid");
    ProcessHandle.of(pid).orElseThrow().destroyForcibly();
    long killed = System.nanoTime();

    Eventually.within(ofSeconds(5), "the dead rpc-server is withdrawn",
        () -> announced().map(b -> b.getLong("pid") != pid)
        .orElse(true));
    long withdrawnMs = (System.nanoTime() - killed) / 1_000_000;
    Eventually.within(ofSeconds(20), "a new rpc-server is announced",
        () -> announced().map(b -> b.getLong("pid") != pid)
        .orElse(false));
    System.out.printf("rpc-server SIGKILLed: withdrawn within %d ms, a new one announced after %d ms%n",
        withdrawnMs, (System.nanoTime() - killed) / 1_000_000);
    assertThat(agent.output()).contains("rpc-server exited; withdrawn from the cluster, restarting");
  }

  @Test
  @Order(3)
  void aSigkilledAgentNodeTakesItsRpcServerWithItAndItsRecordGoes() throws Exception {
    long pid = announced().orElseThrow().getLong("pid");
    agent.kill();

    Eventually.within(ofSeconds(5), "the killed agent's rpc-server is gone too (no orphan holding the port)",
        () -> ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true));
    Eventually.within(ofSeconds(10), "its record is removed by the survivors", () -> announced().isEmpty());
  }

  @Test
  @Order(4)
  void anAgentWithoutAUsableBinaryRefusesToStartAndSaysWhy() throws Exception {
    try (NodeProcess noBinary = new NodeProcess("rpc-agent-nobin", cluster, "--roles", "rpc-agent")) {
      assertThat(noBinary.waitForExit(30_000)).isEqualTo(2);
      assertThat(noBinary.output()).contains("rpcAgent.serverBin").contains("--rpc-server-bin");
    }
    try (NodeProcess wrongBinary = new NodeProcess("rpc-agent-wrongbin", cluster, "--roles", "rpc-agent",
        "--rpc-server-bin", "/nonexistent/ggml-rpc-server", "--rpc-port", Integer.toString(FreePorts.any()))) {
      assertThat(wrongBinary.waitForExit(60_000)).isNotZero();
      assertThat(wrongBinary.output()).contains("is not an executable file");
    }
  }
}
