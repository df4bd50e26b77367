package io.switchboard.node;

import io.switchboard.gateway.SseClient;
import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.FreePorts;
import io.switchboard.testsupport.LlamaCppBinaries;
import io.switchboard.testsupport.NodeProcess;
import io.switchboard.testsupport.NodeProcesses;
import io.switchboard.worker.llamacpp.TinyLlamaModel;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.switchboard.node.ClusterTestSupport.assertAnsweredBy;
import static io.switchboard.node.ClusterTestSupport.chat;
import static io.switchboard.node.ClusterTestSupport.freshCluster;
import static io.switchboard.node.ClusterTestSupport.listedWorkers;
import static io.switchboard.node.ClusterTestSupport.routableWorkers;
import static io.switchboard.node.ClusterTestSupport.tinyLlamaWorker;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 29's "fallback when the first model's only worker is SIGKILLed", with real llama-servers: a gateway node with
 * {@code chat -> [model-a, model-b]}, and two worker nodes over model directories, one holding model-a and the other
 * model-b (tiny GGUFs of different vocabularies written at test time). The gateway loads model-a on the first request
 * for the alias; once model-a's node is SIGKILLed, requests for the alias (whole and streamed) are answered by model-b,
 * loaded on demand on its node, with the body's model and x-switchboard-model naming it. Run on both request planes:
 * on the gRPC plane the gateway's load commands go with the ControlModel call.
 */
class ModelFallbackLlamaIT {

  @TempDir
  Path dir;
  private final NodeProcesses processes = new NodeProcesses();
  /** llama-servers of a SIGKILLed node: orphaned by the kill, ended here by their pids. */
  private final List<ProcessHandle> orphans = new ArrayList<>();

  @AfterEach
  void stopAll() throws Exception {
    processes.close();
    for (ProcessHandle orphan : orphans) {
      orphan.destroyForcibly();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"eventbus", "grpc"})
  void anAliasFallsBackToItsSecondModelWhenTheFirstModelsOnlyWorkerIsKilled(String plane) throws Exception {
    Path bin = LlamaCppBinaries.directory();
    Path cache = Files.createDirectories(Path.of("target", "models", "fallback").toAbsolutePath());
    Path modelA = cache.resolve("model-a.gguf");
    Path modelB = cache.resolve("model-b.gguf");
    if (!Files.exists(modelA)) {
      TinyLlamaModel.write(bin.getParent().resolve("models").resolve("ggml-vocab-llama-spm.gguf"), modelA, 31);
    }
    if (!Files.exists(modelB)) {
      TinyLlamaModel.write(bin.getParent().resolve("models").resolve("ggml-vocab-gpt-2.gguf"), modelB, 32);
    }
    Map<String, String> cluster = freshCluster("fallback-" + plane);
    int httpPort = FreePorts.any();
    Map<String, String> gatewayEnv = new HashMap<>(cluster);
    gatewayEnv.put("SWITCHBOARD_GATEWAY_MODELS_ALIASES", "chat=model-a|model-b");
    gatewayEnv.put("SWITCHBOARD_GATEWAY_REQUEST_PLANE", plane);
    processes.launch("fallback-gateway-" + plane, gatewayEnv, "--roles", "gateway", "--http-port",
        Integer.toString(httpPort));
    NodeProcess nodeA = processes.launch("fallback-worker-a-" + plane, tinyLlamaWorker(cluster, "lib-a"), "--roles", "worker",
        "--llama-server-bin", bin.resolve("llama-server").toString(), "--models-dir", modelsDir("a", modelA)
            .toString());
    NodeProcess nodeB = processes.launch("fallback-worker-b-" + plane, tinyLlamaWorker(cluster, "lib-b"), "--roles", "worker",
        "--llama-server-bin", bin.resolve("llama-server").toString(), "--models-dir", modelsDir("b", modelB)
            .toString());
    Eventually.within(ofSeconds(90), "both model directory workers are routable",
        () -> routableWorkers(httpPort).containsAll(List.of("lib-a", "lib-b")));

    // model-a is loaded on the first request for the alias, and answers it.
    for (int i = 0; i < 2; i++) {
      assertAnsweredBy(chat(httpPort, "chat", 3), "model-a", "lib-a");
    }
    List<ProcessHandle> servers = nodeA.handle().descendants().toList();
    assertThat(servers).as("node A's llama-server for model-a").isNotEmpty();
    orphans.addAll(servers);

    nodeA.kill();
    // At once, while the gateway may still count the dead worker routable: every request is answered by model-b
    // (cold on its node: the first is held while it loads).
    for (int i = 0; i < 3; i++) {
      assertAnsweredBy(chat(httpPort, "chat", 3), "model-b", "lib-b");
    }
    Eventually.within(ofSeconds(15), "the killed worker leaves /admin/cluster",
        () -> !listedWorkers(httpPort).contains("lib-a"));

    try (SseClient sse = new SseClient(httpPort, "/v1/chat/completions", "{\"model\":\"chat\",\"messages\":"
        + "[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true,\"max_tokens\":3}", 0)) {
      assertThat(sse.status).isEqualTo(200);
      assertThat(sse.headers).containsEntry("x-switchboard-model", "model-b");
      List<String> data = sse.remainingData();
      assertThat(data).last().isEqualTo("[DONE]");
      assertThat(data.size()).isGreaterThan(1);
      for (String chunk : data.subList(0, data.size() - 1)) {
        assertThat(new JsonObject(chunk).getString("model")).isEqualTo("model-b");
      }
    }
    long loadsOfB = nodeB.output().lines()
        .filter(line -> line.contains("\"model loaded\"") && line.contains("model-b")).count();
    assertThat(loadsOfB).as("model-b loaded once on its node").isEqualTo(1);
    if ("grpc".equals(plane)) {
      String gatewayLog = processes.get(0).output();
      assertThat(gatewayLog).contains("\"requestPlane\":\"grpc\"");
    }
  }

  private Path modelsDir(String name, Path model) throws Exception {
    Path models = Files.createDirectories(dir.resolve(name));
    Files.createSymbolicLink(models.resolve(model.getFileName()), model);
    return models;
  }

}
