package io.switchboard.gateway;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.gateway.cluster.ClusterView;
import io.switchboard.gateway.config.GatewayOptions;
import io.switchboard.gateway.security.LimitOptions;
import io.switchboard.testsupport.Eventually;
import io.switchboard.worker.WorkerOptions;
import io.switchboard.worker.WorkerVerticle;
import io.switchboard.worker.mocker.MockerOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static java.time.Duration.ofSeconds;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * A gateway facing clients it does not trust: API keys (401 without one, per-key models), operator endpoints
 * closed when there are client keys but no admin key, a rate limit (429 with Retry-After and x-ratelimit-*), the
 * size limits (messages, max_tokens, body, headers, URL), slow clients cut off, and a connection cap.
 */
@ExtendWith(VertxExtension.class)
class ApiSecurityTest {

  private static final String ALPHA = "sk-test-alpha-0001";
  private static final String BETA = "sk-test-beta-0002";
  private static final String GAMMA = "sk-test-gamma-0003";
  private static final long READ_TIMEOUT_MS = 1500;
  private static final int MAX_CONNECTIONS = 24;
  private static Vertx vertx;
  private static int port;
  private static final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    ApiSecurityTest.vertx = vertx;
    for (String model : List.of("sec-llm-a", "sec-llm-b")) {
      vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId(model + "-w").setModel(model)
          .setMocker(new MockerOptions().setDecodeTokensPerSecond(1000)), "node-w")).await(30, SECONDS);
    }
    GatewayVerticle gateway = new GatewayVerticle(new GatewayOptions().setHttpPort(0).setRegistryResyncMs(300)
        .setMaxBodyBytes(64 * 1024)
        .setApiKeys(List.of(ALPHA + ";name=alpha", BETA + ";name=beta;models=sec-llm-b", GAMMA + ";name=gamma;rpm=3"))
        .setLimits(new LimitOptions().setMaxMessages(4).setMaxTokens(100).setRequestReadTimeoutMs(READ_TIMEOUT_MS)
            .setMaxConnections(MAX_CONNECTIONS)),
        ClusterView.standalone("node-g"), metrics);
    vertx.deployVerticle(gateway).await(30, SECONDS);
    port = gateway.actualPort();
    for (String model : List.of("sec-llm-a", "sec-llm-b")) {
      Eventually.read(ofSeconds(10), model + " becomes routable", () -> chat(ALPHA, model, 2),
          answer -> answer.status() == 200);
    }
  }

  @Test
  void theApiNeedsAConfiguredKey() throws Exception {
    RawHttp.Response none = chat(null, "sec-llm-a", 2);
    assertThat(none.status()).isEqualTo(401);
    assertThat(none.headers()).containsEntry("www-authenticate", "Bearer");
    assertThat(none.error().getString("code")).isEqualTo("missing_api_key");
    assertThat(none.error().getString("message")).contains("Authorization: Bearer");

    RawHttp.Response wrong = chat("sk-test-alpha-0009", "sec-llm-a", 2);
    assertThat(wrong.status()).isEqualTo(401);
    assertThat(wrong.error().getString("code")).isEqualTo("invalid_api_key");
    assertThat(wrong.error().getString("message")).doesNotContain("sk-test-alpha-0009").contains("sk-***09");

    RawHttp.Response basic = RawHttp.post(port, "/v1/chat/completions", body("sec-llm-a", 2, 1),
        "Authorization: Basic " + ALPHA + "\r\n");
    assertThat(basic.status()).isEqualTo(401);
    assertThat(RawHttp.get(port, "/v1/models", "").status()).isEqualTo(401);
    assertThat(RawHttp.post(port, "/v1/embeddings", "{}", "").status()).isEqualTo(401);

    RawHttp.Response ok = chat(ALPHA, "sec-llm-a", 2);
    assertThat(ok.status()).as(ok.body()).isEqualTo(200);
    assertThat(ok.headers()).doesNotContainKey("x-ratelimit-limit-requests");
    assertThat(RawHttp.get(port, "/live", "").status()).as("probes stay open").isEqualTo(200);
    assertThat(metrics.scrape()).contains("switchboard_client_refusals_total{reason=\"missing_api_key\"}")
        .contains("switchboard_client_refusals_total{reason=\"invalid_api_key\"}");
  }

  @Test
  void aKeyLimitedToSomeModelsSeesAndUsesOnlyThose() throws Exception {
    RawHttp.Response refused = chat(BETA, "sec-llm-a", 2);
    assertThat(refused.status()).isEqualTo(403);
    assertThat(refused.error().getString("code")).isEqualTo("model_not_allowed");
    assertThat(refused.error().getString("message")).contains("'beta'").contains("sec-llm-b");
    assertThat(chat(BETA, "sec-llm-b", 2).status()).isEqualTo(200);
    assertThat(models(BETA)).containsExactly("sec-llm-b");
    assertThat(models(ALPHA)).containsExactlyInAnyOrder("sec-llm-a", "sec-llm-b");
  }

  @Test
  void operatorEndpointsAreClosedWithClientKeysButNoAdminKey() throws Exception {
    for (String path : List.of("/admin/cluster", "/admin/requests", "/dashboard", "/metrics")) {
      RawHttp.Response response = RawHttp.get(port, path, "Authorization: Bearer " + ALPHA + "\r\n");
      assertThat(response.status()).as(path).isEqualTo(401);
      assertThat(response.error().getString("code")).isEqualTo("admin_key_not_set");
      assertThat(response.error().getString("message")).contains("gateway.adminKey");
    }
  }

  @Test
  void aKeyOverItsRequestsPerMinuteGets429WithRetryAfter() throws Exception {
    for (int i = 0; i < 3; i++) {
      RawHttp.Response ok = chat(GAMMA, "sec-llm-a", 2);
      assertThat(ok.status()).as(ok.body()).isEqualTo(200);
      assertThat(ok.headers()).containsEntry("x-ratelimit-limit-requests", "3")
          .containsEntry("x-ratelimit-remaining-requests", String.valueOf(2 - i))
          .containsKey("x-ratelimit-reset-requests");
    }
    RawHttp.Response limited = chat(GAMMA, "sec-llm-a", 2);
    assertThat(limited.status()).isEqualTo(429);
    assertThat(Long.parseLong(limited.headers().get("retry-after"))).isBetween(1L, 20L);
    assertThat(limited.headers()).containsEntry("x-ratelimit-remaining-requests", "0");
    assertThat(limited.error().getString("code")).isEqualTo("rate_limit_exceeded");
    assertThat(limited.error().getString("type")).isEqualTo("requests");
    assertThat(limited.error().getString("message")).contains("'gamma'").contains("limit 3").contains("rpm=");
    assertThat(chat(ALPHA, "sec-llm-a", 2).status()).as("other keys are not affected").isEqualTo(200);
    assertThat(metrics.scrape()).contains("switchboard_client_refusals_total{reason=\"rate_limit_requests\"} 1.0");
  }

  @Test
  void oversizedRequestsGetClear4xxErrors() throws Exception {
    RawHttp.Response messages = chat(ALPHA, "sec-llm-a", 2, 5);
    assertThat(messages.status()).isEqualTo(400);
    assertThat(messages.error().getString("param")).isEqualTo("messages");
    assertThat(messages.error().getString("message")).contains("gateway.limits.maxMessages").contains("4");

    RawHttp.Response tokens = chat(ALPHA, "sec-llm-a", 101);
    assertThat(tokens.status()).isEqualTo(400);
    assertThat(tokens.error().getString("param")).isEqualTo("max_tokens");
    assertThat(tokens.error().getString("message")).contains("gateway.limits.maxTokens");

    String huge = "{\"model\":\"sec-llm-a\",\"messages\":[{\"role\":\"user\",\"content\":\"" + "x".repeat(70_000)
        + "\"}]}";
    RawHttp.Response body = RawHttp.post(port, "/v1/chat/completions", huge, auth(ALPHA));
    assertThat(body.status()).isEqualTo(413);
    assertThat(body.error().getString("message")).contains("gateway.maxBodyBytes");

    RawHttp.Response headers = RawHttp.get(port, "/v1/models", auth(ALPHA) + "X-Padding: " + "p".repeat(20_000)
        + "\r\n");
    assertThat(headers.status()).isEqualTo(431);
    assertThat(headers.error().getString("message")).contains("gateway.limits.maxHeaderBytes");

    RawHttp.Response url = RawHttp.get(port, "/v1/models?" + "q".repeat(5000), auth(ALPHA));
    assertThat(url.status()).isEqualTo(414);
    assertThat(url.error().getString("code")).isEqualTo("uri_too_long");
  }

  @Test
  void aClientTricklingItsHeadersIsCutOffWhileOthersAreServed() throws Exception {
    try (Socket slow = new Socket()) {
      slow.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      slow.setSoTimeout(100);
      OutputStream out = slow.getOutputStream();
      out.write("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n".getBytes(StandardCharsets.US_ASCII));
      long started = System.currentTimeMillis();
      boolean closed = false;
      int sent = 0;
      while (!closed && System.currentTimeMillis() - started < READ_TIMEOUT_MS * 4) {
        try {
          out.write('X');
          out.flush();
          sent++;
          closed = slow.getInputStream().read() == -1;
        } catch (SocketTimeoutException stillOpen) {
          // the gateway is still waiting for the rest of the head
        } catch (java.io.IOException reset) {
          closed = true;
        }
        if (sent == 3) {
          assertThat(chat(ALPHA, "sec-llm-a", 2).status()).as("others are served meanwhile").isEqualTo(200);
        }
      }
      long heldMs = System.currentTimeMillis() - started;
      assertThat(closed).as("the gateway closed the trickling connection").isTrue();
      assertThat(heldMs).as("it held the connection about requestReadTimeoutMs").isLessThan(READ_TIMEOUT_MS * 3);
    }
  }

  @Test
  void aClientSendingHalfItsBodyGets408() throws Exception {
    try (Socket slow = new Socket()) {
      slow.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      slow.setSoTimeout((int) READ_TIMEOUT_MS * 4);
      slow.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth(ALPHA)
          + "Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"model\":").getBytes(StandardCharsets.US_ASCII));
      String answer = new String(slow.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(answer).startsWith("HTTP/1.1 408").contains("request_timeout").contains("requestReadTimeoutMs");
    }
  }

  @Test
  void connectionsBeyondTheCapAreClosedAtOnce() throws Exception {
    List<Socket> sockets = new ArrayList<>();
    try {
      int closedAtOnce = 0;
      for (int i = 0; i < MAX_CONNECTIONS + 6; i++) {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        sockets.add(socket);
      }
      for (Socket socket : sockets) {
        socket.setSoTimeout((int) READ_TIMEOUT_MS / 3);
        try {
          InputStream in = socket.getInputStream();
          if (in.read() == -1) {
            closedAtOnce++;
          }
        } catch (SocketTimeoutException accepted) {
          // held open: within the cap
        } catch (java.io.IOException reset) {
          closedAtOnce++;
        }
      }
      assertThat(closedAtOnce).as("connections over gateway.limits.maxConnections").isBetween(6, MAX_CONNECTIONS + 6);
      assertThat(metrics.scrape()).contains("switchboard_client_refusals_total{reason=\"connection_cap\"}");
    } finally {
      for (Socket socket : sockets) {
        socket.close();
      }
    }
    Eventually.read(ofSeconds(5), "served again once they are gone", () -> chat(ALPHA, "sec-llm-a", 2),
        answer -> answer.status() == 200);
  }

  @Test
  void keysCanComeFromAFileAndAsHashes() throws Exception {
    java.nio.file.Path file = java.nio.file.Files.createTempFile("switchboard-keys", ".txt");
    String hash = java.util.HexFormat.of().formatHex(io.switchboard.gateway.security.ApiKeys.sha256("sk-from-file-01"));
    java.nio.file.Files.writeString(file, "# team keys\n\nsha256:" + hash + ";name=filed;models=sec-llm-a\n");
    // The file is checked when the test says (the timer's interval is an hour), as often as the timer would.
    GatewayVerticle second = new GatewayVerticle(new GatewayOptions().setHttpPort(0).setRegistryResyncMs(300)
        .setApiKeysFile(file.toString()).setApiKeysFileCheckMs(3_600_000), ClusterView.standalone("node-g2"),
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    String deployment = vertx.deployVerticle(second).await(30, SECONDS);
    try {
      int secondPort = second.actualPort();
      Eventually.read(ofSeconds(10), "served with the filed key",
          () -> RawHttp.post(secondPort, "/v1/chat/completions", body("sec-llm-a", 2, 1), auth("sk-from-file-01")),
          answer -> answer.status() == 200);
      assertThat(RawHttp.post(secondPort, "/v1/chat/completions", body("sec-llm-a", 2, 1), auth(ALPHA)).status())
          .as("only the file's keys").isEqualTo(401);

      // Rotation without a restart: a broken file keeps the keys; a good one replaces them (once it has stayed
      // the same from one check to the next).
      java.nio.file.Files.writeString(file, "broken key line\n");
      checkKeysFile(second, 3);
      assertThat(RawHttp.post(secondPort, "/v1/chat/completions", body("sec-llm-a", 2, 1), auth("sk-from-file-01"))
          .status()).as("a file that does not parse leaves the keys as they were").isEqualTo(200);
      java.nio.file.Files.writeString(file, "sk-rotated-key-02;name=rotated\n");
      checkKeysFile(second, 3);
      assertThat(RawHttp.post(secondPort, "/v1/chat/completions", body("sec-llm-a", 2, 1), auth("sk-rotated-key-02"))
          .status()).as("the new key is taken up").isEqualTo(200);
      assertThat(RawHttp.post(secondPort, "/v1/chat/completions", body("sec-llm-a", 2, 1), auth("sk-from-file-01"))
          .status()).as("the removed key is refused").isEqualTo(401);
    } finally {
      vertx.undeploy(deployment).await(30, SECONDS);
      java.nio.file.Files.deleteIfExists(file);
    }
  }

  @Test
  void aBadKeysFileStopsTheGatewayWithTheLineAtFault() throws Exception {
    java.nio.file.Path file = java.nio.file.Files.createTempFile("switchboard-keys", ".txt");
    java.nio.file.Files.writeString(file, "good-key-123\nbad key with spaces\n");
    try {
      GatewayVerticle broken = new GatewayVerticle(new GatewayOptions().setHttpPort(0).setApiKeysFile(file.toString()),
          ClusterView.standalone("node-g3"), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
      Throwable failure = catchThrowable(() -> vertx.deployVerticle(broken).await(30, SECONDS));
      assertThat(failure).isNotNull();
      assertThat(failure.getMessage()).contains(file + " line 2").contains("visible ASCII");
    } finally {
      java.nio.file.Files.deleteIfExists(file);
    }
  }

  /** Runs {@code n} checks of the gateway's keys file, as its timer would at its interval. */
  private static void checkKeysFile(GatewayVerticle gateway, int n) throws Exception {
    for (int i = 0; i < n; i++) {
      gateway.apiKeySource().check().await(10, SECONDS);
    }
  }

  private static RawHttp.Response chat(String key, String model, int maxTokens) throws Exception {
    return chat(key, model, maxTokens, 1);
  }

  private static RawHttp.Response chat(String key, String model, int maxTokens, int messages) throws Exception {
    return RawHttp.post(port, "/v1/chat/completions", body(model, maxTokens, messages), key == null ? "" : auth(key));
  }

  private static String body(String model, int maxTokens, int messages) {
    JsonArray list = new JsonArray();
    for (int i = 0; i < messages; i++) {
      list.add(new JsonObject().put("role", "user").put("content", "hello " + i));
    }
    return new JsonObject().put("model", model).put("max_tokens", maxTokens).put("messages", list).encode();
  }

  private static String auth(String key) {
    return "Authorization: Bearer " + key + "\r\n";
  }

  private static List<String> models(String key) throws Exception {
    RawHttp.Response response = RawHttp.get(port, "/v1/models", auth(key));
    assertThat(response.status()).isEqualTo(200);
    return response.json().getJsonArray("data").stream().map(JsonObject.class::cast).map(m -> m.getString("id"))
        .toList();
  }
}
