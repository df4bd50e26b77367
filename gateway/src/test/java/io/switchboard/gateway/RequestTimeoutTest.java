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

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;

import static java.time.Duration.ofSeconds;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * gateway.requestTimeoutMs, the total limit: a request still generating when it passes gets 504 {@code timeout}
 * naming the setting, the worker and the request id; a stream gets that error as its last event and no [DONE].
 */
@ExtendWith(VertxExtension.class)
class RequestTimeoutTest {

  private static int port;

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("slow-1").setModel("slow-llm")
        .setMocker(new MockerOptions().setDecodeTokensPerSecond(10)), "node-w")).await(30, SECONDS);
    GatewayVerticle gateway = new GatewayVerticle(new GatewayOptions().setHttpPort(0).setRequestTimeoutMs(1000)
        .setRegistryResyncMs(300), ClusterView.standalone("node-g"),
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    vertx.deployVerticle(gateway).await(30, SECONDS);
    port = gateway.actualPort();
    Eventually.within(ofSeconds(10), "the worker is routable", () -> HttpClient.newHttpClient().send(HttpRequest
        .newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(), HttpResponse.BodyHandlers.ofString())
        .body().contains("\"routable\":1"));
  }

  @Test
  void aRequestPastTheTotalTimeoutGets504NamingTheSetting() throws Exception {
    HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + port + "/v1/completions")).header("content-type", "application/json")
        .header("x-request-id", "req-too-long").POST(HttpRequest.BodyPublishers.ofString(
            "{\"model\":\"slow-llm\",\"prompt\":\"take your time\",\"max_tokens\":100}")).build(),
        HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).as(response.body()).isEqualTo(504);
    JsonObject error = new JsonObject(response.body()).getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo("timeout");
    assertThat(error.getString("message")).contains("gateway.requestTimeoutMs").contains("slow-1")
        .contains("req-too-long");
  }

  @Test
  void aStreamPastTheTotalTimeoutEndsWithTheTimeoutErrorAndNoDone() throws Exception {
    try (SseClient sse = new SseClient(port, "/v1/completions",
        "{\"model\":\"slow-llm\",\"prompt\":\"stream slowly\",\"max_tokens\":100,\"stream\":true}", 0)) {
      List<String> events = sse.remainingData();
      assertThat(events).isNotEmpty().doesNotContain("[DONE]");
      JsonObject error = new JsonObject(events.get(events.size() - 1)).getJsonObject("error");
      assertThat(error.getString("code")).isEqualTo("timeout");
      assertThat(error.getString("message")).contains("gateway.requestTimeoutMs");
    }
  }
}
