package io.switchboard.gateway;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.worker.WorkerOptions;
import io.switchboard.worker.WorkerVerticle;
import io.switchboard.worker.mocker.MockerOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.switchboard.gateway.TestFutures.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A worker on the gateway's own node gets requests and sends chunks handed over without a copy (local-only
 * delivery); one on another node gets them as JSON. The answers must not differ: the mocker's text depends only
 * on its seed and the prompt, so both workers answer the same words, streamed or not.
 */
class SameNodeDeliveryTest {

  private static Vertx vertx;
  private static int port;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    MockerOptions instant = new MockerOptions().setPrefillTokensPerSecond(0).setDecodeTokensPerSecond(0);
    await(vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("here-1").setModel("here-llm")
        .setMocker(instant), "node-1")));
    await(vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("there-1").setModel("there-llm")
        .setMocker(instant), "node-2")));
    GatewayVerticle gateway = new GatewayVerticle(new GatewayOptions().setHttpPort(0).setRegistryResyncMs(300),
        ClusterView.standalone("node-1"), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    await(vertx.deployVerticle(gateway));
    port = gateway.actualPort();
    long until = System.currentTimeMillis() + 10_000;
    while (RawHttp.get(port, "/admin/cluster", "").json().getJsonArray("workers").stream()
        .map(JsonObject.class::cast).filter(worker -> "routable".equals(worker.getString("status"))).count() < 2) {
      if (System.currentTimeMillis() > until) {
        throw new AssertionError("workers not routable: " + RawHttp.get(port, "/admin/cluster", "").body());
      }
      Thread.sleep(100);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (vertx != null) {
      await(vertx.close());
    }
  }

  @Test
  void theSameNodesWorkerAnswersExactlyAsAnotherNodesDoesStreamedOrNot() throws Exception {
    String here = whole("here-llm");
    String there = whole("there-llm");
    assertThat(here).isNotBlank();
    assertThat(here).isEqualTo(there);
    assertThat(streamed("here-llm")).isEqualTo(here);
    assertThat(streamed("there-llm")).isEqualTo(here);
  }

  @Test
  void manyConcurrentStreamsThroughTheHandoffEachGetTheirOwnText() throws Exception {
    ExecutorService clients = Executors.newFixedThreadPool(16);
    Map<Integer, Future<String>> texts = new HashMap<>();
    try {
      for (int i = 0; i < 16; i++) {
        String prompt = "prompt number " + i;
        texts.put(i, clients.submit(() -> streamed("here-llm", prompt)));
      }
    } finally {
      clients.shutdown();
    }
    for (int i = 0; i < 16; i++) {
      assertThat(texts.get(i).get(30, TimeUnit.SECONDS)).isEqualTo(wholeFor("there-llm", "prompt number " + i));
    }
  }

  private static String whole(String model) throws Exception {
    return wholeFor(model, "the same prompt");
  }

  private static String wholeFor(String model, String prompt) throws Exception {
    RawHttp.Response response = RawHttp.post(port, "/v1/chat/completions", body(model, prompt, false), "");
    assertThat(response.status()).as(response.body()).isEqualTo(200);
    assertThat(response.headers().get("x-switchboard-worker")).isEqualTo(model.replace("-llm", "-1"));
    return response.json().getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content");
  }

  private static String streamed(String model) throws Exception {
    return streamed(model, "the same prompt");
  }

  private static String streamed(String model, String prompt) throws Exception {
    try (SseClient sse = new SseClient(port, "/v1/chat/completions", body(model, prompt, true), 0)) {
      assertThat(sse.status).isEqualTo(200);
      List<String> events = sse.remainingData();
      assertThat(events).last().isEqualTo("[DONE]");
      StringBuilder text = new StringBuilder();
      for (String event : events.subList(0, events.size() - 1)) {
        text.append(new JsonObject(event).getJsonArray("choices").getJsonObject(0).getJsonObject("delta")
            .getString("content", ""));
      }
      return text.toString();
    }
  }

  private static String body(String model, String prompt, boolean stream) {
    return new JsonObject().put("model", model).put("max_tokens", 40).put("stream", stream)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user")
            .put("content", prompt))).encode();
  }
}
