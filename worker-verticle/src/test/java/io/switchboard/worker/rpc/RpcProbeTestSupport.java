package io.switchboard.worker.rpc;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Finds the llama.cpp binaries tools/build-llama-cpp built, and starts real ggml-rpc-servers for tests. */
public final class RpcProbeTestSupport {

  private RpcProbeTestSupport() {
  }

  public static Path llamaCppBin() throws Exception {
    Path repo = Path.of(System.getProperty("switchboard.repo", "..")).toAbsolutePath().normalize();
    Process print = new ProcessBuilder("bash", repo.resolve("tools/build-llama-cpp").toString(), "--print")
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(print.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertThat(print.waitFor()).as("llama.cpp is not built: run tools/build-llama-cpp (bash .ci/run does)")
        .isZero();
    return Path.of(out);
  }

  /** Where the ggml-rpc-server on {@code port} writes its output. */
  public static Path rpcServerLog(int port) throws IOException {
    return Files.createDirectories(Path.of("target", "rpc-logs")).resolve("rpc-server-" + port + ".log");
  }

  public static Process startRpcServer(int port) throws Exception {
    Path log = rpcServerLog(port);
    Process process = new ProcessBuilder(llamaCppBin().resolve("ggml-rpc-server").toString(),
        "-H", "127.0.0.1", "-p", Integer.toString(port), "-t", "1")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long until = System.currentTimeMillis() + 20_000;
    while (!listening(port)) {
      assertThat(process.isAlive()).as("ggml-rpc-server exited; see " + log).isTrue();
      assertThat(System.currentTimeMillis()).as("ggml-rpc-server did not listen within 20 s").isLessThan(until);
      Thread.sleep(50);
    }
    return process;
  }

  private static boolean listening(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException notYet) {
      return false;
    }
  }

  public static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

}
