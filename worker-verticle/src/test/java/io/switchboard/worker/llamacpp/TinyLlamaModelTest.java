package io.switchboard.worker.llamacpp;

import io.switchboard.testsupport.FreePorts;
import io.switchboard.testsupport.LlamaCppServers;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
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
    JsonObject answer = complete(LlamaServerTestSupport.start(processes));

    assertThat(answer.getJsonObject("usage").getInteger("completion_tokens")).isBetween(1, 8);
    assertThat(answer.getJsonObject("usage").getInteger("prompt_tokens")).isPositive();
  }

  @Test
  void llamaServerSplitsItOverTwoRealRpcServers() throws Exception {
    int first = FreePorts.any();
    int second = FreePorts.any();
    processes.add(LlamaCppServers.rpcServer(first));
    processes.add(LlamaCppServers.rpcServer(second));

    JsonObject answer = complete(LlamaServerTestSupport.start(processes, "--rpc", "127.0.0.1:" + first + ",127.0.0.1:" + second,
        "-ngl", "99"));

    assertThat(answer.getJsonObject("usage").getInteger("completion_tokens")).isBetween(1, 8);
    // Both rpc-servers really took part: llama-server connected to each and stayed.
    assertThat(Files.readString(LlamaCppServers.rpcServerLog(first))).contains("Accepted client connection");
    assertThat(Files.readString(LlamaCppServers.rpcServerLog(second))).contains("Accepted client connection");
  }
}
