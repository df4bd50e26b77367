package io.switchboard.node;

import io.switchboard.testsupport.Eventually;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.switchboard.node.ClusterTestSupport.freshCluster;
import static io.switchboard.node.ClusterTestSupport.get;
import static io.switchboard.node.ClusterTestSupport.routableWorkers;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node on several event loops runs one gateway instance per loop, all on one port (here a random one, which the
 * instances must share), each a gateway of its own in /admin/cluster, each serving requests; and the node-wide limits
 * hold for the node, not per instance: with gateway.limits.maxConnections 6 on three instances, no more than 6
 * connections are held open (per-instance counts would hold 18).
 */
class GatewayInstancesIT {

  private static final int LOOPS = 3;
  private static final int MAX_CONNECTIONS = 6;

  private final List<NodeLauncher> launched = new ArrayList<>();
  private final List<Socket> sockets = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (Socket socket : sockets) {
      socket.close();
    }
    for (NodeLauncher launcher : launched) {
      launcher.stop().await(60, TimeUnit.SECONDS);
    }
  }

  private NodeLauncher startNode() throws Exception {
    Map<String, String> env = new HashMap<>(freshCluster("instances"));
    env.put("SWITCHBOARD_HTTP_PORT", "0");
    env.put("SWITCHBOARD_NODE_EVENT_LOOPS", Integer.toString(LOOPS));
    env.put("SWITCHBOARD_WORKERS_0_ID", "instances-1");
    env.put("SWITCHBOARD_GATEWAY_LIMITS_MAX_CONNECTIONS", Integer.toString(MAX_CONNECTIONS));
    // Accepted connections that send nothing stay open through the test.
    env.put("SWITCHBOARD_GATEWAY_LIMITS_REQUEST_READ_TIMEOUT_MS", "60000");
    NodeLauncher launcher = new NodeLauncher(NodeConfigLoader.load(NodeConfigLoader.Flags.NONE, env));
    launched.add(launcher);
    launcher.start().await(60, TimeUnit.SECONDS);
    return launcher;
  }

  @Test
  void threeLoopsRunThreeGatewayInstancesOnOnePortEachServingAndTheConnectionCapHoldsForTheNode() throws Exception {
    NodeLauncher node = startNode();
    int port = node.gatewayPort();
    assertThat(port).isPositive();
    Eventually.within(ofSeconds(20), "the gateway sees its worker",
        () -> routableWorkers(port).contains("instances-1"));
    // Every instance reports itself to the cluster's gateway directory.
    Eventually.within(ofSeconds(20), "three gateways of this node in /admin/cluster",
        () -> gatewaysOf(node.nodeId(), port).size() == LOOPS);
    for (JsonObject gateway : gatewaysOf(node.nodeId(), port)) {
      assertThat(gateway.getString("http")).endsWith(":" + port);
    }

    // Vert.x hands each new connection the next instance in turn: a connection per request reaches all three.
    for (int i = 0; i < 2 * LOOPS; i++) {
      String answer = chatOnANewConnection(port);
      assertThat(answer).startsWith("HTTP/1.1 200").contains("\"choices\"");
    }

    // Twice the cap of idle connections, spread over the three instances: the node keeps at most the cap.
    for (int i = 0; i < 2 * MAX_CONNECTIONS; i++) {
      Socket socket = new Socket();
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      sockets.add(socket);
    }
    int kept = 0;
    for (Socket socket : sockets) {
      socket.setSoTimeout(1500);
      InputStream in = socket.getInputStream();
      try {
        in.read();
        // Closed by the node (end of stream) or answered: not kept idle.
      } catch (SocketTimeoutException stillOpen) {
        kept++;
      } catch (java.net.SocketException reset) {
        // Closed by the node.
      }
    }
    assertThat(kept).as("idle connections the node kept open, of %d", sockets.size())
        .isPositive().isLessThanOrEqualTo(MAX_CONNECTIONS);
  }

  /** One chat on a connection of its own, closed after the answer: the status line, headers and body as sent. */
  private static String chatOnANewConnection(int port) throws Exception {
    String body = "{\"model\":\"mock-llm\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":3}";
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      socket.setSoTimeout(30_000);
      socket.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n"
          + "content-type: application/json\r\nconnection: close\r\ncontent-length: " + body.length() + "\r\n\r\n"
          + body).getBytes(StandardCharsets.UTF_8));
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static List<JsonObject> gatewaysOf(String nodeId, int port) throws Exception {
    JsonArray gateways = new JsonObject(get(port, "/admin/cluster").body()).getJsonArray("gateways");
    return gateways.stream().map(JsonObject.class::cast).filter(g -> nodeId.equals(g.getString("nodeId"))).toList();
  }
}
