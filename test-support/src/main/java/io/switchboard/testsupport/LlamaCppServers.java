package io.switchboard.testsupport;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Real llama.cpp servers for tests, each returned only once it serves: a ggml-rpc-server once it accepts
 * connections, a llama-server once its {@code /health} answers 200. Their output goes to target/rpc-logs, and a
 * server that exits while starting fails the test with where its log is. The caller stops the process.
 */
public final class LlamaCppServers {

  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  private LlamaCppServers() {
  }

  /** Where the ggml-rpc-server on {@code port} writes its output. */
  public static Path rpcServerLog(int port) throws IOException {
    return Files.createDirectories(Path.of("target", "rpc-logs")).resolve("rpc-server-" + port + ".log");
  }

  /** A ggml-rpc-server on 127.0.0.1:{@code port}, one thread. */
  public static Process rpcServer(int port) throws Exception {
    Path log = rpcServerLog(port);
    Process process = new ProcessBuilder(LlamaCppBinaries.directory().resolve("ggml-rpc-server").toString(),
        "-H", "127.0.0.1", "-p", Integer.toString(port), "-t", "1")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    Eventually.within(Duration.ofSeconds(20), "ggml-rpc-server listens on " + port,
        () -> running(process, "ggml-rpc-server", log) && listening(port));
    return process;
  }

  /**
   * A llama-server on 127.0.0.1:{@code port} serving {@code model}: a 512-token context, one slot, one thread, no
   * web UI; {@code extra} arguments are added (and may override these).
   */
  public static Process llamaServer(Path model, int port, String... extra) throws Exception {
    List<String> command = new ArrayList<>(List.of(
        LlamaCppBinaries.directory().resolve("llama-server").toString(),
        "-m", model.toString(), "--host", "127.0.0.1", "--port", Integer.toString(port),
        "-c", "512", "-np", "1", "-t", "1", "--no-webui"));
    command.addAll(List.of(extra));
    Path log = Files.createDirectories(Path.of("target", "rpc-logs")).resolve("llama-server-" + port + ".log");
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    Eventually.within(Duration.ofSeconds(60), "llama-server on " + port + " is healthy (see " + log + ")",
        () -> running(process, "llama-server", log) && healthy(port));
    return process;
  }

  private static boolean running(Process process, String name, Path log) throws IOException {
    if (!process.isAlive()) {
      throw new AssertionError(name + " exited; see " + log + ": " + Files.readString(log));
    }
    return true;
  }

  private static boolean listening(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException notYet) {
      return false;
    }
  }

  private static boolean healthy(int port) throws InterruptedException {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (IOException stillStarting) {
      return false;
    }
  }
}
