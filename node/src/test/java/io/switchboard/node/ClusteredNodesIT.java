package io.switchboard.node;

import io.switchboard.gateway.SseClient;
import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.FreePorts;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static io.switchboard.node.ClusterTestSupport.chat;
import static io.switchboard.node.ClusterTestSupport.get;
import static io.switchboard.node.ClusterTestSupport.post;
import static io.switchboard.node.ClusterTestSupport.listedWorkers;
import static io.switchboard.node.ClusterTestSupport.routableWorkers;
import static java.time.Duration.ofSeconds;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Several clustered nodes (real Hazelcast members, real clustered event bus) in one JVM: a gateway that
 * starts after its workers sees them, routes to a worker on another node; a worker node that stops
 * gracefully finishes the stream it is serving before it leaves; two gateways share where conversations went.
 */
class ClusteredNodesIT {

  private final List<NodeLauncher> launched = new ArrayList<>();
  private final String clusterName = "it-" + UUID.randomUUID().toString().substring(0, 8);
  private int clusterPort;

  @AfterEach
  void stopNodes() throws Exception {
    for (NodeLauncher launcher : launched) {
      launcher.stop().await(60, SECONDS);
    }
  }

  private NodeLauncher start(Map<String, String> env) throws Exception {
    if (clusterPort == 0) {
      clusterPort = FreePorts.any();
    }
    Map<String, String> settings = new java.util.HashMap<>(env);
    settings.put("SWITCHBOARD_CLUSTER_NAME", clusterName);
    settings.put("SWITCHBOARD_CLUSTER_PORT", Integer.toString(clusterPort));
    settings.put("SWITCHBOARD_CLUSTER_MEMBERS", "127.0.0.1:" + clusterPort);
    NodeLauncher launcher = new NodeLauncher(NodeConfigLoader.load(NodeConfigLoader.Flags.NONE, settings));
    launcher.start().await(60, SECONDS);
    launched.add(launcher);
    return launcher;
  }

  @Test
  void aNodeRunsOneEventLoopPerCoreButOneUnlessToldOtherwise() throws Exception {
    NodeLauncher plain = start(Map.of("SWITCHBOARD_HTTP_PORT", "0", "SWITCHBOARD_WORKERS_0_ID", "loops-1"));
    NodeLauncher wider = start(Map.of("SWITCHBOARD_HTTP_PORT", "0", "SWITCHBOARD_WORKERS_0_ID", "loops-3",
        "SWITCHBOARD_NODE_EVENT_LOOPS", "3"));

    assertThat(eventLoopsOf(plain)).isEqualTo(NodeOptions.autoEventLoops(Runtime.getRuntime().availableProcessors()));
    assertThat(eventLoopsOf(wider)).isEqualTo(3);
    // However many loops, the gateway, its worker and the event bus serve a request end to end.
    Eventually.within(ofSeconds(10), "the gateway sees its worker",
        () -> routableWorkers(plain.gatewayPort()).contains("loops-1"));
    assertThat(chat(plain.gatewayPort(), "mock-llm", 3).statusCode()).isEqualTo(200);
  }

  private static int eventLoopsOf(NodeLauncher launcher) {
    int loops = 0;
    for (var ignored : ((io.vertx.core.internal.VertxInternal) launcher.vertx()).nettyEventLoopGroup()) {
      loops++;
    }
    return loops;
  }

  @Test
  void gatewayStartedAfterItsWorkersRoutesToAWorkerOnAnotherNode() throws Exception {
    start(Map.of("SWITCHBOARD_ROLES", "worker", "SWITCHBOARD_WORKERS_0_ID", "remote-1",
        "SWITCHBOARD_WORKERS_0_MODEL", "remote-llm"));
    start(Map.of("SWITCHBOARD_ROLES", "worker", "SWITCHBOARD_WORKERS_0_ID", "remote-2",
        "SWITCHBOARD_WORKERS_0_MODEL", "remote-llm"));
    NodeLauncher gateway = start(Map.of("SWITCHBOARD_ROLES", "gateway", "SWITCHBOARD_HTTP_PORT", "0"));
    int port = gateway.gatewayPort();
    Eventually.within(ofSeconds(10), "the late gateway sees both workers",
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
    Eventually.within(ofSeconds(10), "the gateway sees the worker", () -> routableWorkers(port).contains("draining-1"));

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
      stopped.await(60, SECONDS);
    }
    Eventually.within(ofSeconds(5), "the stopped worker is gone from /admin/cluster",
        () -> !listedWorkers(port).contains("draining-1"));
    // Its model was served a moment ago: unavailable, with when and why its worker left (not "unknown model").
    var after = chat(port, "drain-llm", 1);
    assertThat(after.statusCode()).isEqualTo(503);
    assertThat(new JsonObject(after.body()).getJsonObject("error").getString("code")).isEqualTo("model_unavailable");
    assertThat(after.body()).contains("worker draining-1 on node").contains("withdrew its discovery record");
  }

  @Test
  void aConversationContinuedThroughAnotherGatewayReturnsToTheWorkerThatCachedIt() throws Exception {
    for (String id : List.of("share-1", "share-2", "share-3")) {
      start(Map.of("SWITCHBOARD_ROLES", "worker", "SWITCHBOARD_WORKERS_0_ID", id,
          "SWITCHBOARD_WORKERS_0_MODEL", "share-llm"));
    }
    int first = start(Map.of("SWITCHBOARD_ROLES", "gateway", "SWITCHBOARD_HTTP_PORT", "0")).gatewayPort();
    int second = start(Map.of("SWITCHBOARD_ROLES", "gateway", "SWITCHBOARD_HTTP_PORT", "0")).gatewayPort();
    for (int port : List.of(first, second)) {
      Eventually.within(ofSeconds(15), "gateway " + port + " sees the three workers and the other gateway",
          () -> routableWorkers(port).size() == 3
              && new JsonObject(get(port, "/admin/cluster").body()).getJsonArray("gateways").size() == 2);
    }

    List<String> turn1s = new ArrayList<>();
    List<String> workers = new ArrayList<>();
    List<String> answers = new ArrayList<>();
    for (int conversation = 0; conversation < 4; conversation++) {
      String system = ("system: you answer for team " + conversation + " and keep it short. ").repeat(30);
      String turn1 = "{\"model\":\"share-llm\",\"max_tokens\":4,\"messages\":[{\"role\":\"system\",\"content\":\""
          + system + "\"},{\"role\":\"user\",\"content\":\"first question\"}]}";
      HttpResponse<String> answer = post(first, "/v1/chat/completions", turn1);
      assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
      turn1s.add(turn1);
      workers.add(answer.headers().firstValue("x-switchboard-worker").orElseThrow());
      answers.add(new JsonObject(answer.body()).getJsonArray("choices").getJsonObject(0)
          .getJsonObject("message").getString("content"));
    }
    // Continued in the reverse order, so that the second gateway's own tie-breaking cannot mimic the first's.
    for (int conversation = 3; conversation >= 0; conversation--) {
      String turn2 = turn1s.get(conversation).replace("\"content\":\"first question\"}]}",
          "\"content\":\"first question\"},{\"role\":\"assistant\",\"content\":\"" + answers.get(conversation)
              + "\"},{\"role\":\"user\",\"content\":\"and then?\"}]}");
      HttpResponse<String> followUp = post(second, "/v1/chat/completions", turn2);

      assertThat(followUp.statusCode()).as(followUp.body()).isEqualTo(200);
      assertThat(followUp.headers().firstValue("x-switchboard-worker")).as("conversation " + conversation)
          .contains(workers.get(conversation));
      assertThat(new JsonObject(followUp.body()).getJsonObject("usage").getJsonObject("prompt_tokens_details")
          .getInteger("cached_tokens")).isGreaterThan(100);
    }
    String metrics = get(second, "/metrics").body();
    assertThat(metrics)
        .containsPattern("switchboard_router_prefix_shared_bytes_total\\{direction=\"received\"\\} [1-9]");
    String sent = get(first, "/metrics").body().lines()
        .filter(l -> l.startsWith("switchboard_router_prefix_shared_bytes_total{direction=\"sent\"}")).findFirst()
        .orElse("none");
    System.out.printf("prefix sharing: the first gateway sent %s bytes of block hashes for 4 conversations of %d "
        + "prompt characters each%n", sent.substring(sent.lastIndexOf(' ') + 1), turn1s.get(0).length());
  }
}
