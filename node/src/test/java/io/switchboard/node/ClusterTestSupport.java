package io.switchboard.node;

import io.switchboard.testsupport.FreePorts;
import io.switchboard.testsupport.NodeProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the multi-node tests share about a running node: a cluster of its own, HTTP calls to it, what its
 * /admin/cluster lists, its {@code doctor} command. Waiting and starting nodes are test-support's.
 */
final class ClusterTestSupport {

  // HTTP/1.1 as most OpenAI clients speak it; the JDK's default h2c upgrade would funnel every concurrent call
  // into one HTTP/2 connection and fail past its stream limit instead of queueing.
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  private ClusterTestSupport() {
  }

  /** Environment that puts a node in a cluster of its own (fresh name, free port): tests never join each other. */
  static Map<String, String> freshCluster(String prefix) throws IOException {
    int clusterPort = FreePorts.any();
    return Map.of(
        "SWITCHBOARD_CLUSTER_NAME", prefix + "-" + UUID.randomUUID().toString().substring(0, 8),
        "SWITCHBOARD_CLUSTER_PORT", Integer.toString(clusterPort),
        "SWITCHBOARD_CLUSTER_MEMBERS", "127.0.0.1:" + clusterPort);
  }

  static HttpResponse<String> get(int port, String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> post(int port, String path, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(30)).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Environment of a worker that serves the tiny test model from llama.cpp in a cluster: two slots, a 256-token
   * context and one thread, so two such workers and a gateway fit the CI machine.
   */
  static Map<String, String> tinyLlamaWorker(Map<String, String> cluster, String workerId) {
    Map<String, String> env = new java.util.HashMap<>(cluster);
    env.put("SWITCHBOARD_WORKERS_0_ID", workerId);
    env.put("SWITCHBOARD_WORKERS_0_SLOTS", "2");
    env.put("SWITCHBOARD_WORKERS_0_LLAMACPP_CONTEXT_SIZE", "256");
    env.put("SWITCHBOARD_WORKERS_0_LLAMACPP_THREADS", "1");
    return env;
  }

  /** A chat answer that succeeded, from {@code model} on {@code worker}, as its headers and its body say. */
  static void assertAnsweredBy(HttpResponse<String> response, String model, String worker) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(response.headers().firstValue("x-switchboard-model")).contains(model);
    assertThat(response.headers().firstValue("x-switchboard-worker")).contains(worker);
    assertThat(new JsonObject(response.body()).getString("model")).isEqualTo(model);
  }

  static HttpResponse<String> chat(int port, String model, int maxTokens) throws Exception {
    return post(port, "/v1/chat/completions", "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\","
        + "\"content\":\"hello\"}],\"max_tokens\":" + maxTokens + "}");
  }

  /** Ids of the workers /admin/cluster lists as routable; empty while the gateway is not up. */
  static List<String> routableWorkers(int port) {
    try {
      JsonArray workers = new JsonObject(get(port, "/admin/cluster").body()).getJsonArray("workers");
      return workers.stream().map(JsonObject.class::cast)
          .filter(w -> "routable".equals(w.getString("status")))
          .map(w -> w.getString("workerId")).collect(Collectors.toList());
    } catch (Exception notUpYet) {
      return List.of();
    }
  }

  /** Every worker /admin/cluster lists, routable or not. */
  static List<String> listedWorkers(int port) throws Exception {
    JsonArray workers = new JsonObject(get(port, "/admin/cluster").body()).getJsonArray("workers");
    return workers.stream().map(JsonObject.class::cast).map(w -> w.getString("workerId"))
        .collect(Collectors.toList());
  }

  static <T> boolean all(List<T> items, Predicate<T> test) {
    return items.stream().allMatch(test);
  }

  /** What {@code switchboard doctor} printed and its exit status. */
  record DoctorRun(int exit, String output) {
  }

  /** Runs {@code java -jar switchboard.jar doctor ARGS} as an operator would, and echoes its output. */
  static DoctorRun doctor(String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of(
        java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", NodeProcess.jar().getAbsolutePath(), "doctor"));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    System.out.println("$ switchboard doctor " + String.join(" ", args) + "\n" + output);
    return new DoctorRun(process.exitValue(), output);
  }
}
