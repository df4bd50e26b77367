package io.switchboard.worker.rpc;

import io.switchboard.testsupport.FreePorts;
import io.switchboard.testsupport.LlamaCppServers;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The probe against a real ggml-rpc-server (built by tools/build-llama-cpp, which .ci/run runs first) and
 * against listeners that are not rpc-servers.
 */
class RpcProbeTest {

  private static Vertx vertx;
  private static RpcProbe probe;
  private static Process rpcServer;
  private static int rpcPort;

  @BeforeAll
  static void startRpcServer() throws Exception {
    vertx = Vertx.vertx();
    probe = new RpcProbe(vertx, RpcProbe.DEFAULT_PROTOCOL_MAJOR, 1000);
    rpcPort = FreePorts.any();
    rpcServer = LlamaCppServers.rpcServer(rpcPort);
  }

  @AfterAll
  static void stop() throws Exception {
    if (rpcServer != null) {
      rpcServer.destroyForcibly().waitFor();
    }
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private static RpcProbeResult handshake(String host, int port) throws Exception {
    return probe.handshake(host, port).await(10, TimeUnit.SECONDS);
  }

  @Test
  void aRealRpcServerPassesWithItsVersionAndDeviceMemory() throws Exception {
    RpcProbeResult result = handshake("127.0.0.1", rpcPort);

    assertThat(result.reason()).isNull();
    assertThat(result.accepted()).isTrue();
    assertThat(result.version()).startsWith(RpcProbe.DEFAULT_PROTOCOL_MAJOR + ".");
    assertThat(result.devices()).isNotEmpty();
    assertThat(result.devices().get(0).totalBytes()).isPositive();
    assertThat(result.devices().get(0).freeBytes()).isBetween(0L, result.devices().get(0).totalBytes());
  }

  @Test
  void aDifferentProtocolMajorIsRejectedNamingBothVersions() throws Exception {
    RpcProbeResult result = new RpcProbe(vertx, RpcProbe.DEFAULT_PROTOCOL_MAJOR + 1, 1000)
        .handshake("127.0.0.1", rpcPort).await(10, TimeUnit.SECONDS);

    assertThat(result.accepted()).isFalse();
    assertThat(result.version()).startsWith(RpcProbe.DEFAULT_PROTOCOL_MAJOR + ".");
    assertThat(result.reason()).contains("protocol " + result.version()).contains("same llama.cpp version");
  }

  @Test
  void placeholderAndUnresolvableEntriesAreRejectedWithoutConnecting() throws Exception {
    assertThat(handshake("127.0.0.1", 0).reason()).contains("port 0");
    assertThat(handshake("no-such-host.invalid", 50052).reason()).contains("does not resolve");
  }

  @Test
  void aPortWhereNothingListensIsRejected() throws Exception {
    RpcProbeResult result = handshake("127.0.0.1", FreePorts.any());
    assertThat(result.accepted()).isFalse();
    assertThat(result.reason()).contains("connection refused");
  }

  @Test
  void anHttpServerIsNotAnRpcServer() throws Exception {
    try (ServerSocket http = new ServerSocket(0)) {
      Thread server = new Thread(() -> {
        for (int i = 0; i < 2; i++) {
          try (Socket client = http.accept()) {
            InputStream in = client.getInputStream();
            in.read(new byte[64]);
            OutputStream out = client.getOutputStream();
            out.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
          } catch (IOException done) {
            return;
          }
        }
      });
      server.setDaemon(true);
      server.start();

      RpcProbeResult result = handshake("127.0.0.1", http.getLocalPort());

      assertThat(result.accepted()).isFalse();
      assertThat(result.reason()).contains("not a ggml rpc-server").contains("HTTP/1.1");
    }
  }

  @Test
  void aListenerThatNeverAnswersIsRejectedAfterTheTimeout() throws Exception {
    try (ServerSocket silent = new ServerSocket(0)) {
      RpcProbeResult result = handshake("127.0.0.1", silent.getLocalPort());

      assertThat(result.accepted()).isFalse();
      assertThat(result.reason()).contains("no HELLO reply within 1000 ms");
    }
  }

  @Test
  void aServerInUseAnswersNoHandshakeButIsReachableAndAKilledOneIsNot() throws Exception {
    int port = FreePorts.any();
    Process busy = LlamaCppServers.rpcServer(port);
    try (Socket user = new Socket("127.0.0.1", port)) {
      // The server serves one client at a time; this one holds it, as a llama-server would.
      RpcHandshake.hello(user.getInputStream(), user.getOutputStream(), false);

      assertThat(handshake("127.0.0.1", port).accepted()).isFalse();
      assertThat(probe.reachable("127.0.0.1", port).await(10, TimeUnit.SECONDS)).isTrue();

      busy.destroyForcibly().waitFor();
      assertThat(probe.reachable("127.0.0.1", port).await(10, TimeUnit.SECONDS)).isFalse();
    } finally {
      busy.destroyForcibly().waitFor();
    }
  }
}
