package io.switchboard.node;

import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.FreePorts;
import io.switchboard.testsupport.LlamaCppBinaries;
import io.switchboard.testsupport.NodeProcess;
import io.switchboard.testsupport.NodeProcesses;
import io.switchboard.worker.llamacpp.TinyLlamaModel;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.switchboard.node.ClusterTestSupport.chat;
import static io.switchboard.node.ClusterTestSupport.freshCluster;
import static io.switchboard.node.ClusterTestSupport.get;
import static io.switchboard.node.ClusterTestSupport.routableWorkers;
import static io.switchboard.node.ClusterTestSupport.tinyLlamaWorker;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Placement with real llama-servers: two nodes, each a worker over its own model directory holding the same tiny GGUF
 * (written at test time) and a truncated one; the first node also runs the gateway. The first requests for the cold
 * model are held while it loads on one worker (one load; a stream gets keep-alive comments), then every request goes
 * to the worker that has it loaded, not to the other; the truncated model's error names the model, the worker and
 * llama-server's cause, and /admin/cluster shows it.
 */
class ModelPlacementIT {

  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir
  Path dir;
  private final NodeProcesses processes = new NodeProcesses();

  @AfterEach
  void stopAll() throws Exception {
    processes.close();
  }

  @Test
  void aColdModelIsLoadedOnceOnOneWorkerWhileItsRequestsWaitAndTheLoadedWorkerIsPreferred() throws Exception {
    Path bin = LlamaCppBinaries.directory();
    Path model = Files.createDirectories(Path.of("target", "models", "placement").toAbsolutePath())
        .resolve("tiny-place.gguf");
    if (!Files.exists(model)) {
      TinyLlamaModel.write(bin.getParent().resolve("models").resolve("ggml-vocab-llama-spm.gguf"), model, 21);
    }
    Map<String, String> cluster = freshCluster("placement");
    int httpPort = FreePorts.any();
    launch("placement-node-1", tinyLlamaWorker(cluster, "lib-1"), "--http-port", Integer.toString(httpPort),
        "--llama-server-bin", bin.resolve("llama-server").toString(), "--models-dir", modelsDir("one", model)
            .toString());
    launch("placement-node-2", tinyLlamaWorker(cluster, "lib-2"), "--roles", "worker",
        "--llama-server-bin", bin.resolve("llama-server").toString(), "--models-dir", modelsDir("two", model)
            .toString());
    Eventually.within(ofSeconds(90), "both model directory workers are routable",
        () -> routableWorkers(httpPort).containsAll(List.of("lib-1", "lib-2")));

    JsonArray listed = new JsonObject(get(httpPort, "/v1/models").body()).getJsonArray("data");
    assertThat(status(listed, "tiny-place")).isEqualTo("unloaded");
    assertThat(status(listed, "broken")).isEqualTo("unloaded");

    // Three requests at once for the cold model, one streamed: one load, on one worker; all answered from there.
    CompletableFuture<HttpResponse<String>> streamed = send(httpPort, "tiny-place", true);
    List<CompletableFuture<HttpResponse<String>>> whole = List.of(send(httpPort, "tiny-place", false),
        send(httpPort, "tiny-place", false));
    HttpResponse<String> stream = streamed.get(60, TimeUnit.SECONDS);
    assertThat(stream.statusCode()).as(stream.body()).isEqualTo(200);
    assertThat(stream.body()).startsWith(": loading model tiny-place on worker lib-").endsWith("data: [DONE]\n\n");
    String loadedOn = stream.headers().firstValue("x-switchboard-worker").orElseThrow();
    for (CompletableFuture<HttpResponse<String>> each : whole) {
      HttpResponse<String> response = each.get(60, TimeUnit.SECONDS);
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      assertThat(response.headers().firstValue("x-switchboard-worker")).contains(loadedOn);
    }
    String other = loadedOn.equals("lib-1") ? "lib-2" : "lib-1";
    Eventually.within(ofSeconds(10), "the cluster view shows the model loaded on " + loadedOn,
        () -> loaded(httpPort, loadedOn).contains("tiny-place"));
    assertThat(loaded(httpPort, other)).doesNotContain("tiny-place");

    // Loaded on one worker, the model is served there: the other worker does not load it too.
    for (int i = 0; i < 6; i++) {
      HttpResponse<String> response = chat(httpPort, "tiny-place", 4);
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      assertThat(response.headers().firstValue("x-switchboard-worker")).contains(loadedOn);
    }
    assertThat(loaded(httpPort, other)).doesNotContain("tiny-place");
    assertThat(status(new JsonObject(get(httpPort, "/v1/models").body()).getJsonArray("data"), "tiny-place"))
        .isEqualTo("loaded");
    long loads = 0;
    for (NodeProcess process : processes) {
      loads += process.output().lines()
          .filter(line -> line.contains("\"loading model\"") && line.contains("tiny-place")).count();
    }
    assertThat(loads).as("llama-servers started for tiny-place over both workers").isEqualTo(1);

    // The truncated model: the error names it, the worker that tried, and llama-server's own cause.
    HttpResponse<String> broken = chat(httpPort, "broken", 4);
    assertThat(broken.statusCode()).as(broken.body()).isEqualTo(502);
    JsonObject error = new JsonObject(broken.body()).getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo("model_load_failed");
    assertThat(error.getString("message")).contains("'broken'").containsPattern("worker lib-[12]")
        .contains("llama-server exited");
    JsonObject placement = new JsonObject(get(httpPort, "/admin/cluster").body()).getJsonObject("placement");
    JsonObject failure = placement.getJsonArray("lastFailures").getJsonObject(0);
    assertThat(failure.getString("model")).isEqualTo("broken");
    assertThat(failure.getString("reason")).contains("llama-server exited");
    // The other model is unaffected.
    assertThat(chat(httpPort, "tiny-place", 2).statusCode()).isEqualTo(200);
  }

  private Path modelsDir(String name, Path model) throws Exception {
    Path models = Files.createDirectories(dir.resolve(name));
    Files.createSymbolicLink(models.resolve("tiny-place.gguf"), model);
    // The first 100 kB of the real model: a valid header whose data ends mid-way.
    byte[] head = new byte[100_000];
    try (var in = Files.newInputStream(model)) {
      in.readNBytes(head, 0, head.length);
    }
    Files.write(models.resolve("broken.gguf"), head);
    return models;
  }

  private void launch(String name, Map<String, String> env, String... args) throws Exception {
    processes.launch(name, env, args);
  }

  private static CompletableFuture<HttpResponse<String>> send(int port, String model, boolean stream) {
    String body = "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}],"
        + "\"max_tokens\":4,\"stream\":" + stream + "}";
    return HTTP.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
        .timeout(Duration.ofSeconds(60)).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String status(JsonArray models, String id) {
    return models.stream().map(JsonObject.class::cast).filter(m -> id.equals(m.getString("id"))).findFirst()
        .orElseThrow(() -> new AssertionError(id + " is not in /v1/models: " + models.encode())).getString("status");
  }

  /** The models /admin/cluster shows loaded on a worker. */
  private static List<String> loaded(int port, String workerId) throws Exception {
    JsonObject worker = new JsonObject(get(port, "/admin/cluster").body()).getJsonArray("workers").stream()
        .map(JsonObject.class::cast).filter(w -> workerId.equals(w.getString("workerId"))).findFirst().orElseThrow();
    return worker.getJsonObject("library").getJsonArray("loaded").stream().map(String::valueOf).toList();
  }
}
