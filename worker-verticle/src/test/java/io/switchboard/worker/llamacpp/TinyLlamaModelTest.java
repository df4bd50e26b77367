package io.switchboard.worker.llamacpp;

import io.switchboard.worker.rpc.RpcProbeTestSupport;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The tiny random-weight model is a real model: the real llama-server loads it and answers, alone and with its
 * layers split over two real ggml-rpc-servers.
 */
class TinyLlamaModelTest {

  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private final List<Process> processes = new ArrayList<>();

  @AfterEach
  void stopProcesses() throws InterruptedException {
    for (Process process : processes) {
      process.destroyForcibly().waitFor();
    }
  }

  static Path tinyModel() throws Exception {
    Path bin = RpcProbeTestSupport.llamaCppBin();
    Path vocab = bin.getParent().resolve("models").resolve("ggml-vocab-llama-spm.gguf");
    Path model = Path.of("target", "models", "tiny-llama.gguf").toAbsolutePath();
    if (!Files.exists(model)) {
      TinyLlamaModel.write(vocab, model, 42);
    }
    return model;
  }

  private int startLlamaServer(String... extra) throws Exception {
    int port = RpcProbeTestSupport.freePort();
    List<String> command = new ArrayList<>(List.of(
        RpcProbeTestSupport.llamaCppBin().resolve("llama-server").toString(),
        "-m", tinyModel().toString(), "--host", "127.0.0.1", "--port", Integer.toString(port),
        "-c", "512", "-np", "1", "-t", "1", "--no-webui"));
    command.addAll(List.of(extra));
    Path log = Files.createDirectories(Path.of("target", "rpc-logs")).resolve("llama-server-" + port + ".log");
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    processes.add(process);
    long until = System.currentTimeMillis() + 60_000;
    while (true) {
      assertThat(process.isAlive()).as("llama-server exited; see " + log + ": " + Files.readString(log)).isTrue();
      try {
        if (HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(),
            HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
          return port;
        }
      } catch (java.io.IOException notYet) {
        // still starting
      }
      assertThat(System.currentTimeMillis()).as("llama-server not healthy within 60 s; see " + log)
          .isLessThan(until);
      Thread.sleep(100);
    }
  }

  private static JsonObject complete(int port) throws Exception {
    HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
        .header("content-type", "application/json").timeout(Duration.ofSeconds(60))
        .POST(HttpRequest.BodyPublishers.ofString("{\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}],"
            + "\"max_tokens\":8,\"temperature\":0}")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return new JsonObject(response.body());
  }

  @Test
  void llamaServerLoadsItAndAnswersWithRealTokens() throws Exception {
    JsonObject answer = complete(startLlamaServer());

    assertThat(answer.getJsonObject("usage").getInteger("completion_tokens")).isBetween(1, 8);
    assertThat(answer.getJsonObject("usage").getInteger("prompt_tokens")).isPositive();
  }

  @Test
  void llamaServerSplitsItOverTwoRealRpcServers() throws Exception {
    int first = RpcProbeTestSupport.freePort();
    int second = RpcProbeTestSupport.freePort();
    processes.add(RpcProbeTestSupport.startRpcServer(first));
    processes.add(RpcProbeTestSupport.startRpcServer(second));

    JsonObject answer = complete(startLlamaServer("--rpc", "127.0.0.1:" + first + ",127.0.0.1:" + second,
        "-ngl", "99"));

    assertThat(answer.getJsonObject("usage").getInteger("completion_tokens")).isBetween(1, 8);
    // Both rpc-servers really took part: llama-server connected to each and stayed.
    assertThat(Files.readString(RpcProbeTestSupport.rpcServerLog(first))).contains("Accepted client connection");
    assertThat(Files.readString(RpcProbeTestSupport.rpcServerLog(second))).contains("Accepted client connection");
  }
}
