package io.switchboard.worker.llamacpp;

import io.switchboard.worker.rpc.RpcProbeTestSupport;

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

/** The tiny model and a real llama-server serving it, for tests. */
public final class LlamaServerTestSupport {

  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  private LlamaServerTestSupport() {
  }

  public static Path tinyModel() throws Exception {
    Path bin = RpcProbeTestSupport.llamaCppBin();
    Path vocab = bin.getParent().resolve("models").resolve("ggml-vocab-llama-spm.gguf");
    Path model = Path.of("target", "models", "tiny-llama.gguf").toAbsolutePath();
    if (!Files.exists(model)) {
      TinyLlamaModel.write(vocab, model, 42);
    }
    return model;
  }

  /** Starts a real llama-server on the tiny model (added to {@code processes}); returns its port once healthy. */
  public static int start(List<Process> processes, String... extra) throws Exception {
    return startOn(processes, RpcProbeTestSupport.freePort(), extra);
  }

  /** Like {@link #start}, on a given port (to bring a killed server back where its clients expect it). */
  public static int startOn(List<Process> processes, int port, String... extra) throws Exception {
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

}
