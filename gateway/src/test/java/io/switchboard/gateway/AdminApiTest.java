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
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static java.time.Duration.ofSeconds;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The operator's API on a gateway with an admin key: the key is required, /admin/requests shows what is being
 * served and how far it got, and drain/undrain take a worker out of routing (its streams finish) and back.
 */
@ExtendWith(VertxExtension.class)
class AdminApiTest {

  private static final String KEY = "admin-key-for-tests";
  private static int port;
  private static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    for (String id : List.of("op-1", "op-2")) {
      vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId(id).setModel("op-llm")
          .setMocker(new MockerOptions().setDecodeTokensPerSecond(40)), "node-w")).await(30, SECONDS);
    }
    GatewayVerticle gateway = new GatewayVerticle(new GatewayOptions().setHttpPort(0).setAdminKey(KEY)
        .setRegistryResyncMs(300), ClusterView.standalone("node-g"),
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    vertx.deployVerticle(gateway).await(30, SECONDS);
    port = gateway.actualPort();
    Eventually.within(ofSeconds(10), "both workers are routable",
        () -> routable().containsAll(List.of("op-1", "op-2")));
  }

  @Test
  void adminEndpointsNeedTheAdminKeyAndTheApiDoesNot() throws Exception {
    HttpResponse<String> none = send("GET", "/admin/cluster", null, null);
    assertThat(none.statusCode()).isEqualTo(401);
    JsonObject error = new JsonObject(none.body()).getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo("invalid_admin_key");
    assertThat(error.getString("message")).contains("Authorization: Bearer").contains("SWITCHBOARD_GATEWAY_ADMIN_KEY");

    assertThat(send("GET", "/admin/cluster", "Bearer wrong-key-123", null).statusCode()).isEqualTo(401);
    assertThat(send("POST", "/admin/workers/op-1/drain", null, "").statusCode()).isEqualTo(401);
    assertThat(send("GET", "/admin/cluster", "Bearer " + KEY, null).statusCode()).isEqualTo(200);
    assertThat(send("GET", "/admin/requests?admin_key=" + KEY, null, null).statusCode()).isEqualTo(200);
    assertThat(send("GET", "/v1/models", null, null).statusCode()).isEqualTo(200);
  }

  @Test
  void requestsShowsAnOpenStreamWithItsWorkerPhaseAndTokensThenForgetsIt() throws Exception {
    try (SseClient sse = new SseClient(port, "/v1/completions",
        "{\"model\":\"op-llm\",\"prompt\":\"watch me\",\"max_tokens\":400,\"stream\":true}", 0)) {
      sse.nextData();
      sse.nextData();
      JsonObject listed = admin("GET", "/admin/requests?model=op-llm");
      JsonObject mine = listed.getJsonArray("requests").stream().map(JsonObject.class::cast)
          .filter(r -> r.getString("requestId").equals(sse.headers.get("x-request-id"))).findFirst().orElseThrow();
      assertThat(mine.getString("workerId")).isEqualTo(sse.headers.get("x-switchboard-worker"));
      assertThat(mine.getString("phase")).isEqualTo("generating");
      assertThat(mine.getString("endpoint")).isEqualTo("completions");
      assertThat(mine.getInteger("completionTokensSoFar")).isPositive();
      assertThat(mine.getLong("ageMs")).isPositive();
      assertThat(mine.getLong("ttftMs")).isNotNull();
      assertThat(mine.getBoolean("stream")).isTrue();
    }
    Eventually.within(ofSeconds(10), "the closed stream is no longer listed",
        () -> admin("GET", "/admin/requests?model=op-llm").getInteger("count") == 0);
  }

  @Test
  void aDrainedWorkerFinishesItsStreamTakesNothingNewAndComesBackWhenUndrained() throws Exception {
    try (SseClient sse = new SseClient(port, "/v1/completions",
        "{\"model\":\"op-llm\",\"prompt\":\"finish me\",\"max_tokens\":40,\"stream\":true}", 0)) {
      String drained = sse.headers.get("x-switchboard-worker");
      String other = drained.equals("op-1") ? "op-2" : "op-1";
      sse.nextData();

      JsonObject reply = admin("POST", "/admin/workers/" + drained + "/drain");
      assertThat(reply.getBoolean("drained")).isTrue();
      assertThat(reply.getInteger("openStreams")).isEqualTo(1);
      assertThat(reply.getString("message")).contains("takes no new requests").contains("/undrain");
      Eventually.within(ofSeconds(10), "the gateway stops routing to the drained worker",
          () -> !routable().contains(drained));
      JsonObject state = worker(drained);
      assertThat(state.getString("excludedBecause")).contains("drained by an operator").contains("/undrain");

      Set<String> servedBy = new HashSet<>();
      for (int i = 0; i < 6; i++) {
        HttpResponse<String> response = send("POST", "/v1/completions", null,
            "{\"model\":\"op-llm\",\"prompt\":\"elsewhere " + i + "\",\"max_tokens\":1}");
        assertThat(response.statusCode()).isEqualTo(200);
        servedBy.add(response.headers().firstValue("x-switchboard-worker").orElseThrow());
      }
      assertThat(servedBy).containsExactly(other);
      assertThat(sse.remainingData()).as("the drained worker's stream finishes").last().isEqualTo("[DONE]");
    }

    assertThat(admin("POST", "/admin/workers/op-1/undrain").getBoolean("drained")).isFalse();
    assertThat(admin("POST", "/admin/workers/op-2/undrain").getBoolean("drained")).isFalse();
    Eventually.within(ofSeconds(10), "both workers are routable again",
        () -> routable().containsAll(List.of("op-1", "op-2")));
  }

  @Test
  void theDashboardPageAndItsFeedAreServedBehindTheKey() throws Exception {
    assertThat(send("GET", "/dashboard", null, null).statusCode()).isEqualTo(401);
    HttpResponse<String> page = send("GET", "/dashboard?admin_key=" + KEY, null, null);
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
    assertThat(page.body()).contains("<title>Switchboard").contains("/dashboard/events");

    HttpResponse<java.util.stream.Stream<String>> feed = http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + port + "/dashboard/events")).header("authorization", "Bearer " + KEY)
        .build(), HttpResponse.BodyHandlers.ofLines());
    assertThat(feed.headers().firstValue("content-type")).contains("text/event-stream");
    try (java.util.stream.Stream<String> lines = feed.body()) {
      JsonObject snapshot = new JsonObject(lines.filter(l -> l.startsWith("data: ")).findFirst().orElseThrow()
          .substring(6));
      assertThat(snapshot.getJsonObject("cluster").getJsonArray("workers")).hasSize(2);
      assertThat(snapshot.getJsonObject("traffic").getDouble("requestsPerSecond")).isNotNull();
      assertThat(snapshot.getJsonArray("requests")).isNotNull();
    }
  }

  @Test
  void metricsCoverStreamsWorkersCircuitsAndTheCluster() throws Exception {
    try (SseClient sse = new SseClient(port, "/v1/completions",
        "{\"model\":\"op-llm\",\"prompt\":\"count me\",\"max_tokens\":5,\"stream\":true}", 0)) {
      assertThat(sse.remainingData()).last().isEqualTo("[DONE]");
    }
    assertThat(send("GET", "/metrics", null, null).statusCode()).as("metrics need the admin key too").isEqualTo(401);
    Eventually.within(ofSeconds(10), "the gauges are refreshed", () -> send("GET", "/metrics", "Bearer " + KEY, null).body()
        .contains("switchboard_worker_running{"));
    String metrics = send("GET", "/metrics", "Bearer " + KEY, null).body();
    assertThat(metrics).contains("switchboard_inter_token_latency_seconds_count{model=\"op-llm\"}")
        .contains("switchboard_time_to_first_token_seconds_count{model=\"op-llm\"}")
        .contains("switchboard_cluster_members 1.0")
        .containsPattern("switchboard_worker_routable\\{model=\"op-llm\",node=\"node-w\",worker=\"op-1\"} [01]\\.0")
        .containsPattern("switchboard_worker_circuit_open\\{[^}]*worker=\"op-2\"} 0\\.0")
        .contains("switchboard_worker_queued{")
        .contains("switchboard_requests_in_flight");
  }

  @Test
  void drainingAWorkerThatDoesNotExistSaysWhichDo() throws Exception {
    HttpResponse<String> response = send("POST", "/admin/workers/op-9/drain", "Bearer " + KEY, "");
    assertThat(response.statusCode()).isEqualTo(404);
    JsonObject error = new JsonObject(response.body()).getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo("worker_not_found");
    assertThat(error.getString("message")).contains("op-9").contains("op-1").contains("op-2");
  }

  private static JsonObject worker(String id) throws Exception {
    return admin("GET", "/admin/cluster").getJsonArray("workers").stream().map(JsonObject.class::cast)
        .filter(w -> w.getString("workerId").equals(id)).findFirst().orElseThrow();
  }

  private static List<String> routable() throws Exception {
    JsonArray workers = admin("GET", "/admin/cluster").getJsonArray("workers");
    return workers.stream().map(JsonObject.class::cast).filter(w -> "routable".equals(w.getString("status")))
        .map(w -> w.getString("workerId")).toList();
  }

  private static JsonObject admin(String method, String path) throws Exception {
    HttpResponse<String> response = send(method, path, "Bearer " + KEY, method.equals("POST") ? "" : null);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return new JsonObject(response.body());
  }

  private static HttpResponse<String> send(String method, String path, String authorization, String body)
      throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (authorization != null) {
      request.header("authorization", authorization);
    }
    if (body != null) {
      request.header("content-type", "application/json");
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }
}
