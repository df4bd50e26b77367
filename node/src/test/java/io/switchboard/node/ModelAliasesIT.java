package io.switchboard.node;

import io.switchboard.gateway.SseClient;
import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.FreePorts;
import io.switchboard.testsupport.NodeProcess;
import io.switchboard.testsupport.NodeProcesses;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.switchboard.node.ClusterTestSupport.assertAnsweredBy;
import static io.switchboard.node.ClusterTestSupport.chat;
import static io.switchboard.node.ClusterTestSupport.freshCluster;
import static io.switchboard.node.ClusterTestSupport.get;
import static io.switchboard.node.ClusterTestSupport.listedWorkers;
import static io.switchboard.node.ClusterTestSupport.routableWorkers;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * An alias across real nodes: a gateway node with {@code chat -> [model-a, model-b]} (set from the environment), and
 * two worker nodes, each a mocker worker serving one of the models. Requests for the alias go to model-a while its
 * worker lives; once its node is SIGKILLed, every request for the alias is answered by model-b, those sent before
 * the gateway noticed the death included (their attempt on the dead worker fails, and the alias falls back).
 */
class ModelAliasesIT {

  private final NodeProcesses processes = new NodeProcesses();

  @AfterEach
  void stopAll() throws Exception {
    processes.close();
  }

  @Test
  void anAliasFallsBackToItsSecondModelWhenTheFirstModelsOnlyWorkerIsKilled() throws Exception {
    Map<String, String> cluster = freshCluster("alias");
    int httpPort = FreePorts.any();
    Map<String, String> gatewayEnv = new HashMap<>(cluster);
    gatewayEnv.put("SWITCHBOARD_GATEWAY_MODELS_ALIASES", "chat=model-a|model-b");
    processes.launch("alias-gateway", gatewayEnv, "--roles", "gateway", "--http-port", Integer.toString(httpPort));
    NodeProcess workerA = processes.launch("alias-worker-a", workerEnv(cluster, "worker-a", "model-a"), "--roles",
        "worker");
    processes.launch("alias-worker-b", workerEnv(cluster, "worker-b", "model-b"), "--roles", "worker");
    Eventually.within(ofSeconds(90), "both workers are routable",
        () -> routableWorkers(httpPort).containsAll(List.of("worker-a", "worker-b")));

    JsonArray models = new JsonObject(get(httpPort, "/v1/models").body()).getJsonArray("data");
    JsonObject alias = models.stream().map(JsonObject.class::cast).filter(m -> "chat".equals(m.getString("id")))
        .findFirst().orElseThrow();
    assertThat(alias.getJsonArray("alias_of")).containsExactly("model-a", "model-b");
    assertThat(aliasView(httpPort).getString("servesNow")).isEqualTo("model-a");

    for (int i = 0; i < 3; i++) {
      assertAnsweredBy(chat(httpPort, "chat", 3), "model-a", "worker-a");
    }

    workerA.kill();
    long killed = System.nanoTime();
    // At once, while the gateway may still count the dead worker routable: no request for the alias may fail.
    for (int i = 0; i < 5; i++) {
      assertAnsweredBy(chat(httpPort, "chat", 3), "model-b", "worker-b");
    }
    System.out.printf("requests for the alias after SIGKILL of model-a's worker: all served by model-b, the first "
        + "%.0f ms after the kill%n", (System.nanoTime() - killed) / 1e6);
    Eventually.within(ofSeconds(10), "the killed worker leaves /admin/cluster",
        () -> !listedWorkers(httpPort).contains("worker-a"));
    assertThat(aliasView(httpPort).getString("servesNow")).isEqualTo("model-b");

    try (SseClient sse = new SseClient(httpPort, "/v1/chat/completions", "{\"model\":\"chat\",\"messages\":"
        + "[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true,\"max_tokens\":3}", 0)) {
      assertThat(sse.status).isEqualTo(200);
      assertThat(sse.headers).containsEntry("x-switchboard-model", "model-b");
      List<String> data = sse.remainingData();
      assertThat(data).last().isEqualTo("[DONE]");
      for (String chunk : data.subList(0, data.size() - 1)) {
        assertThat(new JsonObject(chunk).getString("model")).isEqualTo("model-b");
      }
    }
    // Asked for by its own name, the dead model is unavailable: only the alias falls back.
    assertThat(chat(httpPort, "model-a", 3).statusCode()).isEqualTo(503);
  }

  private static Map<String, String> workerEnv(Map<String, String> cluster, String id, String model) {
    Map<String, String> env = new HashMap<>(cluster);
    env.put("SWITCHBOARD_WORKERS_0_ID", id);
    env.put("SWITCHBOARD_WORKERS_0_MODEL", model);
    env.put("SWITCHBOARD_WORKERS_0_MOCKER_DECODE_TOKENS_PER_SECOND", "500");
    return env;
  }

  private static JsonObject aliasView(int httpPort) throws Exception {
    return new JsonObject(get(httpPort, "/admin/cluster").body()).getJsonArray("aliases").stream()
        .map(JsonObject.class::cast).filter(a -> "chat".equals(a.getString("alias"))).findFirst().orElseThrow();
  }
}
