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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.time.Duration.ofSeconds;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client that stops reading is the client's fault: its request ends with 499 after the client-stall timeout,
 * its connection is closed, the worker's generation is cancelled (its slot free again), and nothing counts
 * against the worker (no failure on its circuit, no migration). A zero-latency mocker answers with many
 * megabytes, far more than the sockets' buffers hold; the client's receive buffer is 4 KiB. Two gateways serve
 * the same worker: one on the worker's node (the same-node path) and one on another node (the event bus). The
 * stream idle timeout is shorter than the stall timeout, so a gateway that took the held-back worker for a
 * silent one would fail the stream as the worker's fault first.
 */
@ExtendWith(VertxExtension.class)
class ClientStallTest {

  private static final String MODEL = "stall-llm";
  private static final long STALL_TIMEOUT_MS = 1500;
  private static WorkerVerticle worker;
  private static final Map<String, Integer> ports = new HashMap<>();
  private static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    worker = new WorkerVerticle(new WorkerOptions().setId("stall-1").setModel(MODEL).setContextLength(2_000_000)
        .setMocker(new MockerOptions().setPrefillTokensPerSecond(0).setDecodeTokensPerSecond(0)
            .setMinAnswerTokens(2_000_000).setMaxAnswerTokens(2_000_000)), "node-s");
    vertx.deployVerticle(worker).await(30, SECONDS);
    for (String path : new String[] {"same-node", "eventbus"}) {
      GatewayOptions options = new GatewayOptions(new JsonObject()
          .put("httpPort", 0)
          .put("registryResyncMs", 300)
          .put("streamIdleTimeoutMs", 1000)
          .put("circuitFailureThreshold", 1)
          .put("limits", new JsonObject().put("maxTokens", 0).put("clientStallTimeoutMs", STALL_TIMEOUT_MS)));
      GatewayVerticle gateway = new GatewayVerticle(options,
          ClusterView.standalone(path.equals("same-node") ? "node-s" : "node-g"),
          new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
      vertx.deployVerticle(gateway).await(30, SECONDS);
      ports.put(path, gateway.actualPort());
    }
    for (int port : ports.values()) {
      Eventually.within(ofSeconds(10), "stall-1 is routable",
          () -> "routable".equals(workerStatus(port).getString("status")));
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"same-node", "eventbus"})
  void aStreamWhoseClientStopsReadingEndsWith499AndCostsTheWorkerNothing(String path) throws Exception {
    int port = ports.get(path);
    long before = requests(port, "499");
    String body = new JsonObject().put("model", MODEL).put("prompt", "flood " + path).put("max_tokens", 1_000_000)
        .put("stream", true).encode();
    try (StalledReader client = new StalledReader(port, "/v1/completions", body, 4096, 2000)) {
      assertThat(client.status).as(client.head).isEqualTo(200);
      assertThat(client.head).contains("data: ");
      Eventually.within(ofSeconds(10), "the worker is generating",
          () -> worker.load().await(30, SECONDS).inFlight() == 1);
      // Held back by the client, the worker waits; the gateway gives up on the client and cancels it.
      Eventually.within(ofSeconds(30), "the worker's generation was stopped",
          () -> worker.load().await(30, SECONDS).inFlight() == 0);
      StalledReader.Ending ending = client.readOn(10_000);
      System.out.printf("%s: stalled client's connection %s (%d more bytes read)%n", path, ending.how(),
          ending.bytesAfterStall());
      assertTheWorkerWasNotBlamed(port);
      assertThat(ending.closedByServer()).as(ending.how()).isTrue();
      assertThat(ending.bytesAfterStall()).as("the gateway dropped what the client had not read, in its buffers and "
          + "the kernel's").isLessThan(64 * 1024);
    }
    assertThat(requests(port, "499")).isEqualTo(before + 1);
    assertTheWorkerServesAtOnce(port);
  }

  @Test
  void aClientThatNeverReadsALargeWholeAnswerIsCutOffAfterTheStallTimeout() throws Exception {
    int port = ports.get("eventbus");
    long before = requests(port, null);
    String body = new JsonObject().put("model", MODEL).put("prompt", "whole " + System.nanoTime())
        .put("max_tokens", 1_000_000).encode();
    try (StalledReader client = new StalledReader(port, "/v1/completions", body, 4096, 2000)) {
      assertThat(client.status).as(client.head).isEqualTo(200);
      Eventually.within(ofSeconds(60), "the gateway counts the request", () -> requests(port, null) > before);
      assertThat(get(port, "/metrics").body()).as("the answer never reached the client")
          .containsPattern("switchboard_requests_total\\{endpoint=\"completions\",model=\"" + MODEL
              + "\",status=\"499\"}");
      StalledReader.Ending ending = client.readOn(10_000);
      System.out.printf("whole answer: stalled client's connection %s (%d more bytes read)%n", ending.how(),
          ending.bytesAfterStall());
      assertThat(ending.closedByServer()).as(ending.how()).isTrue();
      assertThat(ending.bytesAfterStall()).as("the gateway dropped what the client had not read, in its buffers and "
          + "the kernel's").isLessThan(64 * 1024);
    }
    assertTheWorkerWasNotBlamed(port);
    assertTheWorkerServesAtOnce(port);
  }

  private static void assertTheWorkerWasNotBlamed(int port) throws Exception {
    JsonObject circuit = workerStatus(port).getJsonObject("circuit");
    assertThat(circuit.getString("lastFailure")).as("no failure counted against the worker").isNull();
    assertThat(circuit.getString("state")).isEqualTo("closed");
    assertThat(get(port, "/metrics").body()).as("nothing migrated")
        .doesNotContainPattern("switchboard_stream_migrations_total\\{model=\"" + MODEL + "\"\\} [1-9]");
  }

  private static void assertTheWorkerServesAtOnce(int port) throws Exception {
    Eventually.within(ofSeconds(5), "the worker's slot is free again",
        () -> worker.load().await(30, SECONDS).inFlight() == 0);
    HttpResponse<String> next = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
            + "/v1/completions")).POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("model", MODEL)
            .put("prompt", "and now?").put("max_tokens", 5).encode())).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(next.statusCode()).as(next.body()).isEqualTo(200);
    assertThat(next.headers().firstValue("x-switchboard-worker")).contains("stall-1");
  }

  /** Requests of the stall model this gateway answered with {@code status} (null: any), by its metrics. */
  private static long requests(int port, String status) throws Exception {
    Matcher matcher = Pattern.compile("switchboard_requests_total\\{endpoint=\"completions\",model=\"" + MODEL
        + "\",status=\"" + (status == null ? "[0-9]+" : status) + "\"} ([0-9.]+)").matcher(get(port, "/metrics").body());
    long total = 0;
    while (matcher.find()) {
      total += (long) Double.parseDouble(matcher.group(1));
    }
    return total;
  }

  private static JsonObject workerStatus(int port) throws Exception {
    return new JsonObject(get(port, "/admin/cluster").body()).getJsonArray("workers").stream()
        .map(JsonObject.class::cast).filter(w -> "stall-1".equals(w.getString("workerId"))).findFirst()
        .orElse(new JsonObject());
  }

  private static HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
