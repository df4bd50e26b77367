package io.switchboard.node;

import io.switchboard.gateway.SseClient;
import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.FreePorts;
import io.switchboard.testsupport.LlamaCppBinaries;
import io.switchboard.testsupport.NodeProcess;
import io.switchboard.worker.llamacpp.TinyLlamaModel;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.switchboard.node.ClusterTestSupport.freshCluster;
import static io.switchboard.node.ClusterTestSupport.get;
import static io.switchboard.node.ClusterTestSupport.post;
import static io.switchboard.node.ClusterTestSupport.routableWorkers;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 29's first acceptance command with the real jar and real llama-servers: {@code java -jar switchboard.jar
 * --llama-server-bin BIN/llama-server --models-dir DIR} over three tiny GGUFs written at test time with different
 * vocabularies and sizes (so their answers differ). {@code /v1/models} lists the three; a chat to each is answered
 * by that model (named in the body and the header; the same question asked again of it gets the same greedy answer,
 * the others a different one); {@code /admin/cluster} shows which are loaded, and, at the default {@code modelsMax}
 * of 2, that a third model's load unloaded the least recently used one (not the first loaded) and stopped its
 * llama-server. Stopping the node stops every llama-server it started; the test checks each is gone.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ModelsDirIT {

  /** name, vocabulary file, seed: three vocabularies (32000, 50257 and 32064 tokens), three sizes. */
  private static final List<String[]> MODELS = List.of(
      new String[] {"tiny-spm", "ggml-vocab-llama-spm.gguf", "11"},
      new String[] {"tiny-gpt2", "ggml-vocab-gpt-2.gguf", "12"},
      new String[] {"tiny-phi3", "ggml-vocab-phi-3.gguf", "13"});
  private static final Map<String, String> firstAnswers = new LinkedHashMap<>();
  /** Every llama-server pid the node reported ("model loaded" in its log, pid in /admin/cluster). */
  private static final Set<Long> serverPids = new LinkedHashSet<>();
  private static Path dir;
  private static NodeProcess node;
  private static int httpPort;

  @BeforeAll
  static void startTheNodeOverThreeModels() throws Exception {
    assertThat(NodeProcess.jar()).as("run mvn package first").exists();
    Path bin = LlamaCppBinaries.directory();
    Path vocabs = bin.getParent().resolve("models");
    dir = Path.of("target", "models", "models-dir-it").toAbsolutePath();
    Files.createDirectories(dir);
    try (var stale = Files.list(dir)) {
      for (Path file : stale.toList()) {
        Files.delete(file);
      }
    }
    for (String[] model : MODELS) {
      TinyLlamaModel.write(vocabs.resolve(model[1]), dir.resolve(model[0] + ".gguf"), Long.parseLong(model[2]));
    }
    httpPort = FreePorts.any();
    node = new NodeProcess("models-dir", freshCluster("models-dir"), "--http-port", Integer.toString(httpPort),
        "--llama-server-bin", bin.resolve("llama-server").toString(), "--models-dir", dir.toString());
    Eventually.within(ofSeconds(90), "the models-dir worker is routable", () -> !routableWorkers(httpPort).isEmpty());
  }

  @AfterAll
  static void stopEverything() throws Exception {
    if (node != null) {
      node.close();
    }
    // The node's wrapper stops its llama-servers when the JVM dies; anything still here is ended, and said.
    for (long pid : serverPids) {
      ProcessHandle.of(pid).filter(ProcessHandle::isAlive).ifPresent(process -> {
        System.out.println("llama-server " + pid + " outlived the node; killing it");
        process.destroyForcibly();
      });
    }
  }

  private static HttpResponse<String> chat(String model) throws Exception {
    return post(httpPort, "/v1/chat/completions", chatBody(model, false));
  }

  private static String chatBody(String model, boolean stream) {
    return new JsonObject().put("model", model).put("max_tokens", 8).put("temperature", 0).put("stream", stream)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hello there")))
        .encode();
  }

  /** Asks {@code model} the question; checks the answer came from it and returns its text. */
  private static String answerOf(String model) throws Exception {
    HttpResponse<String> response = chat(model);
    assertThat(response.statusCode()).as(model + ": " + response.body()).isEqualTo(200);
    assertThat(response.headers().firstValue("x-switchboard-model")).as("the header names the model")
        .contains(model);
    JsonObject body = new JsonObject(response.body());
    assertThat(body.getString("model")).isEqualTo(model);
    assertThat(body.getJsonObject("usage").getInteger("completion_tokens")).isEqualTo(8);
    String text = body.getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content");
    assertThat(text).as(model + " answers something").isNotBlank();
    return text;
  }

  /** The worker's models as /admin/cluster shows them (engineStatus.models), by name. */
  private static Map<String, JsonObject> clusterModels() throws Exception {
    JsonArray workers = new JsonObject(get(httpPort, "/admin/cluster").body()).getJsonArray("workers");
    assertThat(workers).hasSize(1);
    JsonObject status = workers.getJsonObject(0).getJsonObject("engineStatus");
    Map<String, JsonObject> models = new LinkedHashMap<>();
    for (Object entry : status.getJsonArray("models")) {
      JsonObject model = (JsonObject) entry;
      models.put(model.getString("name"), model);
      if (model.getLong("pid") != null && "loaded".equals(model.getString("state"))) {
        serverPids.add(model.getLong("pid"));
      }
    }
    return models;
  }

  private static boolean inStates(Map<String, JsonObject> models, Map<String, String> expected) {
    return expected.entrySet().stream()
        .allMatch(e -> e.getValue().equals(models.getOrDefault(e.getKey(), new JsonObject()).getString("state")));
  }

  /** Until /admin/cluster shows the models in the states expected (load reports come about once a second). */
  private static void statesEventually(String what, Map<String, String> expected) throws Exception {
    Eventually.read(ofSeconds(10), what, ModelsDirIT::clusterModels, models -> inStates(models, expected));
  }

  /** The pid of each llama-server the node logged as loaded, in order. */
  private static List<long[]> loadsLogged() throws Exception {
    List<long[]> loads = new ArrayList<>();
    for (String line : node.output().split("\n")) {
      if (line.contains("\"message\":\"model loaded\"")) {
        JsonObject event = new JsonObject(line);
        serverPids.add(event.getLong("pid"));
        loads.add(new long[] {MODELS.stream().map(m -> m[0]).toList().indexOf(event.getString("model")),
            event.getLong("pid")});
      }
    }
    return loads;
  }

  /** The pid of the model's last llama-server the node logged as loaded (the log is written asynchronously). */
  private static long pidOf(String model) throws Exception {
    int index = MODELS.stream().map(m -> m[0]).toList().indexOf(model);
    Eventually.within(ofSeconds(5), "the node logs " + model + " loaded",
        () -> loadsLogged().stream().anyMatch(load -> load[0] == index));
    return loadsLogged().stream().filter(load -> load[0] == index).reduce((a, b) -> b).orElseThrow()[1];
  }

  @Test
  @Order(1)
  void theModelsListsTheThreeFilesAndAdminClusterShowsThemUnloadedWithTheirSizes() throws Exception {
    JsonArray data = new JsonObject(get(httpPort, "/v1/models").body()).getJsonArray("data");
    assertThat(data.stream().map(JsonObject.class::cast).map(m -> m.getString("id")).toList())
        .containsExactlyInAnyOrder("tiny-spm", "tiny-gpt2", "tiny-phi3");
    Map<String, JsonObject> models = clusterModels();
    assertThat(models.keySet()).containsExactlyInAnyOrder("tiny-spm", "tiny-gpt2", "tiny-phi3");
    for (String[] model : MODELS) {
      assertThat(models.get(model[0]).getString("state")).isEqualTo("unloaded");
      assertThat(models.get(model[0]).getLong("sizeBytes")).isEqualTo(Files.size(dir.resolve(model[0] + ".gguf")));
    }
    assertThat(models.get("tiny-gpt2").getLong("sizeBytes")).as("different sizes")
        .isGreaterThan(models.get("tiny-spm").getLong("sizeBytes"));
  }

  @Test
  @Order(2)
  void aChatToEachModelIsAnsweredByThatModelAndTheLeastRecentlyUsedIsUnloadedAtModelsMax() throws Exception {
    firstAnswers.put("tiny-spm", answerOf("tiny-spm"));
    firstAnswers.put("tiny-gpt2", answerOf("tiny-gpt2"));
    statesEventually("/admin/cluster shows tiny-spm and tiny-gpt2 loaded, tiny-phi3 not",
        Map.of("tiny-spm", "loaded", "tiny-gpt2", "loaded", "tiny-phi3", "unloaded"));
    // tiny-spm was loaded first but is used again now: tiny-gpt2 becomes the least recently used.
    assertThat(answerOf("tiny-spm")).as("the same greedy question to the same model").isEqualTo(
        firstAnswers.get("tiny-spm"));
    long gpt2Pid = pidOf("tiny-gpt2");
    firstAnswers.put("tiny-phi3", answerOf("tiny-phi3"));

    assertThat(new LinkedHashSet<>(firstAnswers.values())).as("each model answers differently: " + firstAnswers)
        .hasSize(3);
    statesEventually("/admin/cluster shows tiny-spm and tiny-phi3 loaded, tiny-gpt2 (least recently used) unloaded",
        Map.of("tiny-spm", "loaded", "tiny-phi3", "loaded", "tiny-gpt2", "unloaded"));
    Map<String, JsonObject> models = clusterModels();
    JsonObject status = new JsonObject(get(httpPort, "/admin/cluster").body()).getJsonArray("workers")
        .getJsonObject(0).getJsonObject("engineStatus");
    assertThat(status.getInteger("modelsMax")).isEqualTo(2);
    assertThat(status.getInteger("modelsLoaded")).isEqualTo(2);
    assertThat(models.get("tiny-gpt2").getLong("pid")).as("an unloaded model has no server").isNull();
    assertThat(models.get("tiny-phi3").getLong("pid")).isEqualTo(pidOf("tiny-phi3"));
    Eventually.within(ofSeconds(10), "tiny-gpt2's llama-server (pid " + gpt2Pid + ") is gone",
        () -> ProcessHandle.of(gpt2Pid).map(p -> !p.isAlive()).orElse(true));
    Eventually.within(ofSeconds(5), "the node logs why tiny-gpt2 was unloaded", () -> node.output().contains(
        "\"model\":\"tiny-gpt2\",\"reason\":\"to make room for model 'tiny-phi3' (modelsMax 2)\""));
  }

  @Test
  @Order(3)
  void anUnloadedModelAskedAgainStreamsItsOwnAnswerAfterAFreshLoad() throws Exception {
    int loadsBefore = loadsLogged().size();
    StringBuilder text = new StringBuilder();
    try (SseClient sse = new SseClient(httpPort, "/v1/chat/completions", chatBody("tiny-gpt2", true), 0)) {
      assertThat(sse.status).isEqualTo(200);
      assertThat(sse.headers.get("x-switchboard-model")).isEqualTo("tiny-gpt2");
      List<String> events = sse.remainingData();
      assertThat(events).as("the stream ends with [DONE], not cut by the load").last().isEqualTo("[DONE]");
      for (String event : events.subList(0, events.size() - 1)) {
        JsonObject chunk = new JsonObject(event);
        assertThat(chunk.getString("model")).isEqualTo("tiny-gpt2");
        JsonArray choices = chunk.getJsonArray("choices");
        if (choices != null && !choices.isEmpty()) {
          text.append(choices.getJsonObject(0).getJsonObject("delta", new JsonObject()).getString("content", ""));
        }
      }
    }
    assertThat(text.toString()).as("tiny-gpt2 loaded again answers as before").isEqualTo(
        firstAnswers.get("tiny-gpt2"));
    Eventually.within(ofSeconds(5), "the node logs one new load", () -> loadsLogged().size() == loadsBefore + 1);
    statesEventually("tiny-spm (least recently used now) unloaded for tiny-gpt2",
        Map.of("tiny-gpt2", "loaded", "tiny-phi3", "loaded", "tiny-spm", "unloaded"));
  }

  @Test
  @Order(4)
  void stoppingTheNodeStopsEveryLlamaServerItStarted() throws Exception {
    clusterModels();
    loadsLogged();
    assertThat(serverPids).as("four loads: spm, gpt2, phi3, gpt2 again").hasSize(4);
    node.terminate();
    assertThat(node.waitForExit(60_000)).isZero();
    Eventually.within(ofSeconds(10), "every llama-server the node started is gone " + serverPids,
        () -> serverPids.stream().noneMatch(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)));
  }
}
