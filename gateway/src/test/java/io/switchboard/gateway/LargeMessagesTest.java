package io.switchboard.gateway;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.gateway.cluster.ClusterView;
import io.switchboard.gateway.config.GatewayOptions;
import io.switchboard.protocol.PlaneMessageLimit;
import io.switchboard.runtime.tls.PeerTls;
import io.switchboard.testsupport.Eventually;
import io.switchboard.worker.WorkerOptions;
import io.switchboard.worker.WorkerVerticle;
import io.switchboard.worker.mocker.MockerOptions;
import io.switchboard.worker.plane.GrpcPlaneOptions;
import io.switchboard.worker.plane.GrpcPlaneServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static java.time.Duration.ofSeconds;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Requests and answers larger than the request planes carry (grpc.maxMessageBytes, here 1 MiB on every node):
 * the client's to fix, so 413 on both planes alike, never a retry on another worker and never a failure counted
 * against a worker's circuit (each gateway opens a circuit at the first counted failure). Bodies are allowed up to
 * 4 MiB here, past what a validated configuration allows, to reach the planes' limit directly.
 */
@ExtendWith(VertxExtension.class)
class LargeMessagesTest {

  private static final int PLANE_LIMIT = 1024 * 1024;
  private static Vertx vertx;
  private static final Map<String, Integer> ports = new java.util.HashMap<>();
  private static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    LargeMessagesTest.vertx = vertx;
    GrpcPlaneServer grpc = new GrpcPlaneServer(new GrpcPlaneOptions().setHost("127.0.0.1").setPort(0)
        .setMaxMessageBytes(PLANE_LIMIT), "node-w");
    vertx.deployVerticle(grpc).await(30, SECONDS);
    MockerOptions instant = new MockerOptions().setPrefillTokensPerSecond(0).setDecodeTokensPerSecond(0);
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("wide-1").setModel("wide-llm")
        .setContextLength(2_000_000).setMocker(instant), "node-w", grpc)).await(30, SECONDS);
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("embed-1").setModel("embed-llm")
        .setMocker(new MockerOptions().setPrefillTokensPerSecond(0).setDecodeTokensPerSecond(0)
            .setEmbeddingDimensions(4096)), "node-w", grpc)).await(30, SECONDS);
    PlaneMessageLimit limit = new PlaneMessageLimit(PLANE_LIMIT);
    ports.put("eventbus", gateway("eventbus", limit));
    ports.put("grpc", gateway("grpc", limit));
    // A gateway that believes the planes carry 16 MiB, in front of a worker node that reads 1 MiB.
    ports.put("grpc-mismatched", gateway("grpc", PlaneMessageLimit.ofDefault()));
    for (int port : ports.values()) {
      Eventually.within(ofSeconds(10), "workers routable from :" + port, () -> routable(port) >= 2);
    }
  }

  private static int gateway(String plane, PlaneMessageLimit limit) throws Exception {
    GatewayVerticle gateway = new GatewayVerticle(new GatewayOptions().setHttpPort(0).setRequestPlane(plane)
        .setMaxBodyBytes(4 * 1024 * 1024).setRegistryResyncMs(300).setCircuitFailureThreshold(1)
        .setAdmissionTimeoutMs(2000), ClusterView.standalone("node-g-" + plane),
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), PeerTls.NONE, limit);
    vertx.deployVerticle(gateway).await(30, SECONDS);
    return gateway.actualPort();
  }

  private static long routable(int port) throws Exception {
    return workers(port).stream().filter(w -> "routable".equals(w.getString("status"))).count();
  }

  private static List<JsonObject> workers(int port) throws Exception {
    return new JsonObject(get(port, "/admin/cluster").body()).getJsonArray("workers").stream()
        .map(JsonObject.class::cast).toList();
  }

  private static HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> post(int port, String path, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(30)).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String chat(int bytesOfFiller) {
    return new JsonObject().put("model", "wide-llm").put("max_tokens", 3).put("messages", new JsonArray()
        .add(new JsonObject().put("role", "user").put("content", "many words ".repeat(bytesOfFiller / 11))))
        .encode();
  }

  private static void assertEveryCircuitClosedAndServing(int port) throws Exception {
    assertThat(workers(port)).allSatisfy(w -> assertThat(w.getJsonObject("circuit").getString("state"))
        .as(w.getString("workerId")).isEqualTo("closed"));
    HttpResponse<String> normal = post(port, "/v1/chat/completions", chat(100));
    assertThat(normal.statusCode()).as(normal.body()).isEqualTo(200);
  }

  @Test
  void aRequestLargerThanThePlanesCarryIs413OnBothPlanesAndNoWorkersFault() throws Exception {
    for (String plane : List.of("eventbus", "grpc")) {
      int port = ports.get(plane);
      // 300 KB: past gRPC's default 256 KiB message limit, well inside this one.
      HttpResponse<String> fits = post(port, "/v1/chat/completions", chat(300_000));
      assertThat(fits.statusCode()).as(plane + ": " + fits.body()).isEqualTo(200);

      // 600 KB of body and 600 KB of prompt taken from it: more than 1 MiB between the nodes.
      HttpResponse<String> tooLarge = post(port, "/v1/chat/completions", chat(600_000));
      assertThat(tooLarge.statusCode()).as(plane + ": " + tooLarge.body()).isEqualTo(413);
      JsonObject error = new JsonObject(tooLarge.body()).getJsonObject("error");
      assertThat(error.getString("code")).isEqualTo("request_too_large");
      assertThat(error.getString("type")).isEqualTo("invalid_request_error");
      assertThat(error.getString("message")).contains("grpc.maxMessageBytes").contains(String.valueOf(PLANE_LIMIT));
      assertThat(tooLarge.headers().firstValue("x-switchboard-worker")).as("no worker was chosen").isEmpty();
      assertEveryCircuitClosedAndServing(port);
    }
  }

  @Test
  void anAnswerLargerThanThePlanesCarryIs413OnBothPlanesAndNoWorkersFault() throws Exception {
    JsonArray inputs = new JsonArray();
    for (int i = 0; i < 128; i++) {
      inputs.add("input number " + i);
    }
    String embeddings = new JsonObject().put("model", "embed-llm").put("input", inputs).encode();
    for (String plane : List.of("eventbus", "grpc")) {
      int port = ports.get(plane);
      HttpResponse<String> small = post(port, "/v1/embeddings", new JsonObject().put("model", "embed-llm")
          .put("input", "one").encode());
      assertThat(small.statusCode()).as(plane + ": " + small.body()).isEqualTo(200);

      HttpResponse<String> tooLarge = post(port, "/v1/embeddings", embeddings);
      assertThat(tooLarge.statusCode()).as(plane + ": " + tooLarge.body()).isEqualTo(413);
      assertThat(new JsonObject(tooLarge.body()).getJsonObject("error").getString("message"))
          .contains("the answer takes").contains("grpc.maxMessageBytes");
      assertEveryCircuitClosedAndServing(port);
    }
  }

  @Test
  void aWorkerNodeThatCarriesLessThanTheGatewayRefusesWithoutBeingBlamed() throws Exception {
    int port = ports.get("grpc-mismatched");
    HttpResponse<String> refused = post(port, "/v1/chat/completions", chat(600_000));

    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(413);
    assertThat(new JsonObject(refused.body()).getJsonObject("error").getString("message"))
        .contains("RESOURCE_EXHAUSTED").contains("same grpc.maxMessageBytes on every node");
    assertEveryCircuitClosedAndServing(port);
  }
}
