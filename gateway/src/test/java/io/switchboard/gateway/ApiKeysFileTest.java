package io.switchboard.gateway;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.gateway.cluster.ClusterView;
import io.switchboard.gateway.config.GatewayOptions;
import io.switchboard.testsupport.Eventually;
import io.switchboard.worker.WorkerOptions;
import io.switchboard.worker.WorkerVerticle;
import io.switchboard.worker.mocker.MockerOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static java.time.Duration.ofSeconds;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * A gateway whose API keys file is emptied, truncated, deleted, left with only comments, replaced atomically, or
 * rewritten in place in two steps: a file that cannot be used never turns authentication off (a request without a
 * key keeps getting 401, the operator endpoints stay closed, the keys in force keep working), and a whole new
 * file takes effect, revocations included. The checks of the file are run by the test (the timer's interval is an
 * hour) so each step is seen exactly when the test says; one test runs the real timer.
 */
@ExtendWith(VertxExtension.class)
class ApiKeysFileTest {

  private static final String MODEL = "kf-llm";
  private static final String ONE = "sk-kf-one-0001";
  private static final String TWO = "sk-kf-two-0002";
  private static Vertx vertx;
  private Path file;
  private String deployment;
  private GatewayVerticle gateway;

  @BeforeAll
  static void startWorker(Vertx vertx) throws Exception {
    ApiKeysFileTest.vertx = vertx;
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("kf-w").setModel(MODEL)
        .setMocker(new MockerOptions().setDecodeTokensPerSecond(2000)), "node-kf-w")).await(30, SECONDS);
  }

  @AfterEach
  void stopGateway() throws Exception {
    if (deployment != null) {
      vertx.undeploy(deployment).await(30, SECONDS);
      deployment = null;
    }
    if (file != null) {
      Files.deleteIfExists(file);
    }
  }

  /** A gateway reading {@code content} from a fresh keys file, with the file checked only when the test says. */
  private int gatewayWith(String content, GatewayOptions options) throws Exception {
    file = Files.createTempFile("switchboard-keys", ".txt");
    Files.writeString(file, content);
    gateway = new GatewayVerticle(options.setHttpPort(0).setRegistryResyncMs(300).setApiKeysFile(file.toString()),
        ClusterView.standalone("node-kf-g"), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    deployment = vertx.deployVerticle(gateway).await(30, SECONDS);
    int port = gateway.actualPort();
    String first = content.substring(0, content.indexOf(';'));
    Eventually.within(ofSeconds(10), "the worker becomes routable", () -> chat(port, first) == 200);
    return port;
  }

  private int gatewayWith(String content) throws Exception {
    return gatewayWith(content, new GatewayOptions().setApiKeysFileCheckMs(3_600_000));
  }

  /** Runs {@code n} checks of the file, as the timer would at its interval. */
  private void checks(int n) throws Exception {
    for (int i = 0; i < n; i++) {
      gateway.apiKeySource().check().await(10, SECONDS);
    }
  }

  private static int chat(int port, String key) throws Exception {
    return RawHttp.post(port, "/v1/chat/completions", new JsonObject().put("model", MODEL).put("max_tokens", 2)
        .put("messages", List.of(new JsonObject().put("role", "user").put("content", "hi"))).encode(),
        key == null ? "" : "Authorization: Bearer " + key + "\r\n").status();
  }

  /** Still closed: no key gets 401, the operator endpoints answer 401 without an admin key. */
  private static void assertClosed(int port) throws Exception {
    assertThat(chat(port, null)).as("a request without a key").isEqualTo(401);
    assertThat(chat(port, "sk-kf-guess-0000")).as("a request with an unknown key").isEqualTo(401);
    for (String path : List.of("/admin/cluster", "/admin/requests", "/metrics")) {
      RawHttp.Response admin = RawHttp.get(port, path, "");
      assertThat(admin.status()).as(path + " without the admin key").isEqualTo(401);
      assertThat(admin.error().getString("code")).isEqualTo("admin_key_not_set");
    }
  }

  @Test
  void anEmptiedFileKeepsTheKeysInForce() throws Exception {
    int port = gatewayWith(ONE + ";name=one\n");
    assertClosed(port);
    Files.write(file, new byte[0], StandardOpenOption.TRUNCATE_EXISTING);
    checks(3);
    assertClosed(port);
    assertThat(chat(port, ONE)).as("the key in force still works").isEqualTo(200);
    assertThat(gateway.apiKeySource().status().getString("lastFailure")).contains("holds no API key")
        .contains("it is empty");
  }

  @Test
  void aFileWithOnlyCommentsKeepsTheKeysInForce() throws Exception {
    int port = gatewayWith(ONE + ";name=one\n");
    Files.writeString(file, "# every key revoked?\n\n   \n# nothing else\n");
    checks(3);
    assertClosed(port);
    assertThat(chat(port, ONE)).isEqualTo(200);
    assertThat(gateway.apiKeySource().status().getString("lastFailure")).contains("only blank and comment lines");
  }

  @Test
  void aTruncatedFileIsNotTakenButACutAtALineBreakRevokes() throws Exception {
    String whole = ONE + ";name=one\n" + TWO + ";name=two\n";
    int port = gatewayWith(whole);
    assertThat(chat(port, TWO)).isEqualTo(200);
    // Cut in the middle of the second key: its first characters would otherwise be a key of their own.
    Files.writeString(file, whole.substring(0, whole.indexOf(TWO) + 8));
    checks(3);
    assertClosed(port);
    assertThat(chat(port, TWO.substring(0, 8))).as("the cut-off key").isEqualTo(401);
    assertThat(chat(port, TWO)).as("the keys in force stay").isEqualTo(200);
    assertThat(gateway.apiKeySource().status().getString("lastFailure")).contains("cut off in the middle of line 2");
    assertThat(gateway.apiKeySource().status().getBoolean("fileInForce")).isFalse();

    Files.writeString(file, ONE + ";name=one\n");
    checks(2);
    assertThat(chat(port, TWO)).as("a whole file with one key fewer revokes it").isEqualTo(401);
    assertThat(chat(port, ONE)).isEqualTo(200);
    assertClosed(port);
    assertThat(gateway.apiKeySource().status().getBoolean("fileInForce")).isTrue();
  }

  @Test
  void aDeletedFileKeepsTheKeysAndTheNextWholeFileIsTaken() throws Exception {
    int port = gatewayWith(ONE + ";name=one\n");
    Files.delete(file);
    checks(3);
    assertClosed(port);
    assertThat(chat(port, ONE)).isEqualTo(200);
    assertThat(gateway.apiKeySource().status().getString("lastFailure")).contains("does not exist");

    Files.writeString(file, TWO + ";name=two\n");
    checks(2);
    assertThat(chat(port, TWO)).isEqualTo(200);
    assertThat(chat(port, ONE)).as("revoked by the new file").isEqualTo(401);
    assertClosed(port);
  }

  @Test
  void anAtomicReplaceTakesEffectRevocationsIncluded() throws Exception {
    int port = gatewayWith(ONE + ";name=one\n" + TWO + ";name=two\n");
    Path staged = Files.createTempFile(file.getParent(), "keys-next", ".tmp");
    Files.writeString(staged, "# rotated\n" + TWO + ";name=two\nsk-kf-three-0003;name=three\n");
    Files.move(staged, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    checks(2);
    assertThat(chat(port, "sk-kf-three-0003")).as("the added key").isEqualTo(200);
    assertThat(chat(port, TWO)).isEqualTo(200);
    assertThat(chat(port, ONE)).as("the revoked key").isEqualTo(401);
    assertClosed(port);
  }

  @Test
  void aNonAtomicWriteCaughtHalfwayIsNotTaken() throws Exception {
    int port = gatewayWith(ONE + ";name=one\n");
    String next = "sk-kf-four-0004;name=four\nsk-kf-five-0005;name=five\n";
    int half = next.indexOf("five") + 2;
    // An editor writing in place: truncate and write the first half ...
    Files.writeString(file, next.substring(0, half));
    checks(1);
    assertThat(chat(port, "sk-kf-fi")).as("a key cut off by the write in progress").isEqualTo(401);
    assertThat(chat(port, "sk-kf-four-0004")).as("nothing of the half-written file is taken").isEqualTo(401);
    assertThat(chat(port, ONE)).as("the keys in force stay").isEqualTo(200);
    assertClosed(port);
    // ... then the rest.
    Files.writeString(file, next.substring(half), StandardOpenOption.APPEND);
    checks(1);
    assertThat(chat(port, ONE)).as("changed again since the last check: not taken yet").isEqualTo(200);
    checks(1);
    assertThat(chat(port, "sk-kf-five-0005")).as("the whole file, once it stayed the same").isEqualTo(200);
    assertThat(chat(port, "sk-kf-four-0004")).isEqualTo(200);
    assertThat(chat(port, "sk-kf-fi")).isEqualTo(401);
    assertThat(chat(port, ONE)).as("revoked by the new file").isEqualTo(401);
    assertClosed(port);
  }

  /** The real timer (checks every 200 ms), and what an operator sees in /admin/cluster and /metrics. */
  @Test
  void theTimerKeepsTheKeysThroughAnEmptyFileAndOperatorsSeeWhy() throws Exception {
    String admin = "Authorization: Bearer kf-admin-key-0000\r\n";
    int port = gatewayWith(ONE + ";name=one\n", new GatewayOptions().setApiKeysFileCheckMs(200)
        .setAdminKey("kf-admin-key-0000"));
    Files.write(file, new byte[0], StandardOpenOption.TRUNCATE_EXISTING);
    JsonObject keys = Eventually.read(ofSeconds(10), "the refusal is reported",
        () -> RawHttp.get(port, "/admin/cluster", admin).json().getJsonObject("gateway").getJsonObject("apiKeys"),
        reported -> reported.getString("lastFailure") != null);
    assertThat(keys.getString("lastFailure")).contains("holds no API key");
    assertThat(keys.getBoolean("fileInForce")).isFalse();
    assertThat(keys.getInteger("keys")).isEqualTo(1);
    assertThat(keys.getString("loadedAt")).isNotNull();
    assertThat(chat(port, null)).isEqualTo(401);
    assertThat(chat(port, ONE)).isEqualTo(200);
    assertThat(RawHttp.get(port, "/admin/cluster", "").status()).as("the admin key is still needed").isEqualTo(401);
    assertThat(RawHttp.get(port, "/metrics", admin).body()).contains("switchboard_api_keys_file_refused 1.0");

    Path staged = Files.createTempFile(file.getParent(), "keys-next", ".tmp");
    Files.writeString(staged, TWO + ";name=two\n");
    Files.move(staged, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    Eventually.within(ofSeconds(10), "the new file is taken", () -> chat(port, TWO) == 200);
    assertThat(chat(port, ONE)).isEqualTo(401);
    keys = RawHttp.get(port, "/admin/cluster", admin).json().getJsonObject("gateway").getJsonObject("apiKeys");
    assertThat(keys.getBoolean("fileInForce")).isTrue();
    assertThat(RawHttp.get(port, "/metrics", admin).body()).contains("switchboard_api_keys_file_refused 0.0");
  }

  @Test
  void aGatewayRefusesToStartWithAKeysFileThatHoldsNoKey() throws Exception {
    for (String content : List.of("", "# nothing yet\n\n")) {
      Path empty = Files.createTempFile("switchboard-keys", ".txt");
      Files.writeString(empty, content);
      try {
        GatewayVerticle refused = new GatewayVerticle(new GatewayOptions().setHttpPort(0)
            .setApiKeysFile(empty.toString()), ClusterView.standalone("node-kf-g2"),
            new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        Throwable failure = catchThrowable(() -> vertx.deployVerticle(refused).await(30, SECONDS));
        assertThat(failure).as("content '%s'", content).isNotNull();
        assertThat(failure.getMessage()).contains(empty.toString()).contains("holds no API key");
        assertThatOptionsRefuse(empty);
      } finally {
        Files.deleteIfExists(empty);
      }
    }
  }

  private static void assertThatOptionsRefuse(Path empty) {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new GatewayOptions().setApiKeysFile(empty.toString())
        .validate("gateway")).hasMessageContaining("gateway.apiKeysFile: " + empty).hasMessageContaining(
        "holds no API key");
  }
}
