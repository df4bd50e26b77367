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
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;

import static java.time.Duration.ofSeconds;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * With gateway.otlpTracesEndpoint set, each request's span goes to an OTLP/HTTP receiver (here a plain HTTP
 * server that keeps what it is sent, the protobuf bodies a collector would decode): under the client's trace,
 * with the request id, model, worker and status.
 */
@ExtendWith(VertxExtension.class)
class OtlpTracingTest {

  private static int port;
  private static final List<Buffer> exported = new CopyOnWriteArrayList<>();
  private static final List<String> paths = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    HttpServer collector = vertx.createHttpServer().requestHandler(request -> request.body().onSuccess(body -> {
      paths.add(request.path() + " " + request.getHeader("content-type"));
      exported.add(body);
      request.response().setStatusCode(200).putHeader("content-type", "application/x-protobuf").end();
    })).listen(0, "127.0.0.1").await(30, SECONDS);
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("traced-1").setModel("traced-llm")
        .setMocker(new MockerOptions().setPrefillTokensPerSecond(0).setDecodeTokensPerSecond(0)), "node-w"))
        .await(30, SECONDS);
    GatewayVerticle gateway = new GatewayVerticle(new GatewayOptions().setHttpPort(0).setRegistryResyncMs(300)
        .setOtlpTracesEndpoint("http://127.0.0.1:" + collector.actualPort() + "/v1/traces"),
        ClusterView.standalone("node-g"), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    vertx.deployVerticle(gateway).await(30, SECONDS);
    port = gateway.actualPort();
  }

  @Test
  void aRequestsSpanIsExportedUnderTheClientsTrace() throws Exception {
    String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    Eventually.read(ofSeconds(10), "the worker becomes routable", () -> HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
            .header("content-type", "application/json")
            .header("x-request-id", "req-otel-1").header("traceparent", "00-" + traceId + "-00f067aa0ba902b7-01")
            .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"traced-llm\",\"max_tokens\":3,\"messages\":"
                + "[{\"role\":\"user\",\"content\":\"trace me\"}]}")).build(), HttpResponse.BodyHandlers.ofString()),
        response -> response.statusCode() == 200);

    byte[] traceBytes = HexFormat.of().parseHex(traceId);
    Buffer span = Eventually.read(ofSeconds(10), "the span is exported within the batch delay", () -> exported.stream()
        .filter(body -> contains(body.getBytes(), "req-otel-1".getBytes(StandardCharsets.UTF_8))).findFirst()
        .orElse(null), Objects::nonNull);
    byte[] bytes = span.getBytes();
    assertThat(paths).contains("/v1/traces application/x-protobuf");
    assertThat(contains(bytes, traceBytes)).as("the span belongs to the client's trace").isTrue();
    for (String expected : List.of("chat_completions traced-llm", "traced-1", "switchboard", "gen_ai.request.model",
        "http.response.status_code")) {
      assertThat(contains(bytes, expected.getBytes(StandardCharsets.UTF_8))).as(expected).isTrue();
    }
  }

  private static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }
}
