package io.switchboard.gateway;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.gateway.cluster.ClusterView;
import io.switchboard.gateway.config.GatewayOptions;
import io.switchboard.runtime.tls.PeerTls;
import io.switchboard.protocol.PlaneMessageLimit;
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

import static java.time.Duration.ofSeconds;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A gateway on the gRPC plane calls a worker of its own node directly, as one on the event-bus plane does, and
 * reaches a worker of another node over gRPC. The node's gRPC server no longer serves the same-node worker (it would
 * refuse a call naming it as stopping), so an answer from it proves no gRPC call was made; the other node's worker is
 * served only there, so an answer from it proves the call went over gRPC.
 */
@ExtendWith(VertxExtension.class)
class SameNodeOnGrpcPlaneTest {

  private static int port;

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    GrpcPlaneServer grpc = new GrpcPlaneServer(new GrpcPlaneOptions().setHost("127.0.0.1").setPort(0), "node-2");
    vertx.deployVerticle(grpc).await(30, SECONDS);
    MockerOptions instant = new MockerOptions().setPrefillTokensPerSecond(0).setDecodeTokensPerSecond(0);
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("here-1").setModel("here-llm")
        .setMocker(instant), "node-1", grpc)).await(30, SECONDS);
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("there-1").setModel("there-llm")
        .setMocker(instant), "node-2", grpc)).await(30, SECONDS);
    grpc.unregister("here-1");
    GatewayVerticle gateway = new GatewayVerticle(new GatewayOptions().setHttpPort(0).setRequestPlane("grpc")
        .setRegistryResyncMs(300).setAdmissionQueueSize(0), ClusterView.standalone("node-1"),
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), PeerTls.NONE, PlaneMessageLimit.ofDefault());
    vertx.deployVerticle(gateway).await(30, SECONDS);
    port = gateway.actualPort();
    Eventually.read(ofSeconds(10), "both workers are routable", () -> RawHttp.get(port, "/admin/cluster", "").json(),
        cluster -> cluster.getJsonArray("workers").stream().map(JsonObject.class::cast)
            .filter(worker -> "routable".equals(worker.getString("status"))).count() >= 2);
  }

  @Test
  void theSameNodesWorkerIsCalledDirectlyAndAnotherNodesOverGrpcWithTheSameAnswer() throws Exception {
    RawHttp.Response here = chat("here-llm", false);
    RawHttp.Response there = chat("there-llm", false);

    assertThat(here.status()).as(here.body()).isEqualTo(200);
    assertThat(here.headers().get("x-switchboard-worker")).isEqualTo("here-1");
    assertThat(there.status()).as(there.body()).isEqualTo(200);
    assertThat(there.headers().get("x-switchboard-worker")).isEqualTo("there-1");
    // The mocker's text depends only on its seed and the prompt: the path must not change it.
    assertThat(text(here)).isNotBlank().isEqualTo(text(there));
  }

  @Test
  void aStreamFromTheSameNodesWorkerEndsWithDone() throws Exception {
    try (SseClient sse = new SseClient(port, "/v1/chat/completions", body("here-llm", true), 0)) {
      assertThat(sse.status).isEqualTo(200);
      assertThat(sse.remainingData()).last().isEqualTo("[DONE]");
    }
  }

  private static RawHttp.Response chat(String model, boolean stream) throws Exception {
    return RawHttp.post(port, "/v1/chat/completions", body(model, stream), "");
  }

  private static String text(RawHttp.Response response) {
    return response.json().getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content");
  }

  private static String body(String model, boolean stream) {
    return new JsonObject().put("model", model).put("max_tokens", 40).put("stream", stream)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "the same prompt")))
        .encode();
  }
}
