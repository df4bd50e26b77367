package io.switchboard.node;

import io.switchboard.gateway.SseClient;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static io.switchboard.node.ClusterTestSupport.chat;
import static io.switchboard.node.ClusterTestSupport.freePort;
import static io.switchboard.node.ClusterTestSupport.listedWorkers;
import static io.switchboard.node.ClusterTestSupport.routableWorkers;
import static io.switchboard.node.ClusterTestSupport.waitUntil;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Several clustered nodes (real Hazelcast members, real clustered event bus) in one JVM: a gateway that
 * starts after its workers sees them, routes to a worker on another node, and a worker node that stops
 * gracefully finishes the stream it is serving before it leaves.
 */
class ClusteredNodesIT {

  private final List<NodeLauncher> launched = new ArrayList<>();
  private final String clusterName = "it-" + UUID.randomUUID().toString().substring(0, 8);
  private int clusterPort;

  @AfterEach
  void stopNodes() throws Exception {
    for (NodeLauncher launcher : launched) {
      await(launcher.stop());
    }
  }

  private NodeLauncher start(Map<String, String> env) throws Exception {
    if (clusterPort == 0) {
      clusterPort = freePort();
    }
    Map<String, String> settings = new java.util.HashMap<>(env);
    settings.put("SWITCHBOARD_CLUSTER_NAME", clusterName);
    settings.put("SWITCHBOARD_CLUSTER_PORT", Integer.toString(clusterPort));
    settings.put("SWITCHBOARD_CLUSTER_MEMBERS", "127.0.0.1:" + clusterPort);
    NodeLauncher launcher = new NodeLauncher(NodeConfigLoader.load(NodeConfigLoader.Flags.NONE, settings));
    await(launcher.start());
    launched.add(launcher);
    return launcher;
  }

  @Test
  void gatewayStartedAfterItsWorkersRoutesToAWorkerOnAnotherNode() throws Exception {
    start(Map.of("SWITCHBOARD_ROLES", "worker", "SWITCHBOARD_WORKERS_0_ID", "remote-1",
        "SWITCHBOARD_WORKERS_0_MODEL", "remote-llm"));
    start(Map.of("SWITCHBOARD_ROLES", "worker", "SWITCHBOARD_WORKERS_0_ID", "remote-2",
        "SWITCHBOARD_WORKERS_0_MODEL", "remote-llm"));
    NodeLauncher gateway = start(Map.of("SWITCHBOARD_ROLES", "gateway", "SWITCHBOARD_HTTP_PORT", "0"));
    int port = gateway.gatewayPort();
    waitUntil("the late gateway sees both workers", 10_000,
        () -> routableWorkers(port).containsAll(List.of("remote-1", "remote-2")));

    List<String> servedBy = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      HttpResponse<String> response = chat(port, "remote-llm", 3);
      assertThat(response.statusCode()).isEqualTo(200);
      servedBy.add(response.headers().firstValue("x-switchboard-worker").orElseThrow());
    }
    assertThat(servedBy).contains("remote-1", "remote-2");

    try (SseClient sse = new SseClient(port, "/v1/chat/completions", "{\"model\":\"remote-llm\",\"messages\":"
        + "[{\"role\":\"user\",\"content\":\"stream me\"}],\"max_tokens\":20,\"stream\":true}", 0)) {
      List<String> events = sse.remainingData();
      assertThat(events).last().isEqualTo("[DONE]");
      assertThat(events).hasSize(1 + 20 + 1 + 1); // role, 20 tokens, finish, [DONE]
    }
  }

  @Test
  void workerNodeStoppingGracefullyFinishesItsStreamThenLeaves() throws Exception {
    NodeLauncher worker = start(Map.of("SWITCHBOARD_ROLES", "worker", "SWITCHBOARD_WORKERS_0_ID", "draining-1",
        "SWITCHBOARD_WORKERS_0_MODEL", "drain-llm", "SWITCHBOARD_WORKERS_0_MOCKER_DECODE_TOKENS_PER_SECOND", "40"));
    NodeLauncher gateway = start(Map.of("SWITCHBOARD_ROLES", "gateway", "SWITCHBOARD_HTTP_PORT", "0"));
    int port = gateway.gatewayPort();
    waitUntil("the gateway sees the worker", 10_000, () -> routableWorkers(port).contains("draining-1"));

    try (SseClient sse = new SseClient(port, "/v1/completions", "{\"model\":\"drain-llm\",\"prompt\":\"go\","
        + "\"max_tokens\":60,\"stream\":true}", 0)) {
      sse.nextData();
      sse.nextData();
      Future<Void> stopped = worker.stop();
      launched.remove(worker);
      List<String> rest = sse.remainingData();
      assertThat(rest).last().isEqualTo("[DONE]");
      long textChunks = rest.stream().filter(e -> !e.equals("[DONE]"))
          .map(e -> new JsonObject(e).getJsonArray("choices").getJsonObject(0).getString("text"))
          .filter(t -> !t.isEmpty()).count();
      assertThat(textChunks + 2).isEqualTo(60);
      await(stopped);
    }
    waitUntil("the stopped worker is gone from /admin/cluster", 5_000,
        () -> !listedWorkers(port).contains("draining-1"));
    assertThat(chat(port, "drain-llm", 1).statusCode()).isEqualTo(404);
  }

  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
