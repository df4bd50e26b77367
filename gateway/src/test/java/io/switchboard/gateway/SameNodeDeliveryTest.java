package io.switchboard.gateway;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.gateway.cluster.ClusterView;
import io.switchboard.gateway.config.GatewayOptions;
import io.switchboard.protocol.Addresses;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.SameNodeWorkers;
import io.switchboard.testsupport.Eventually;
import io.switchboard.worker.WorkerOptions;
import io.switchboard.worker.WorkerVerticle;
import io.switchboard.worker.mocker.MockerOptions;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static java.time.Duration.ofSeconds;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A worker on the gateway's own node is called directly ({@link SameNodeWorkers}), without the event bus; one on
 * another node gets requests and sends chunks as JSON over the event bus. The answers must not differ: the
 * mocker's text depends only on its seed and the prompt, so both workers answer the same words, streamed or not.
 */
@ExtendWith(VertxExtension.class)
class SameNodeDeliveryTest {

  private static final long ACCEPT_TIMEOUT_MS = 200;
  private static int port;
  /** Event-bus sends to each address, counted by an interceptor. */
  private static final Map<String, Integer> sends = new ConcurrentHashMap<>();
  /** What the silent stand-in for worker silent-1 was asked: "open streamId" and "cancel streamId: reason". */
  private static final List<String> silentCalls = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    vertx.eventBus().addOutboundInterceptor(delivery -> {
      sends.merge(delivery.message().address(), 1, Integer::sum);
      delivery.next();
    });
    MockerOptions instant = new MockerOptions().setPrefillTokensPerSecond(0).setDecodeTokensPerSecond(0);
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("here-1").setModel("here-llm")
        .setMocker(instant), "node-1")).await(30, SECONDS);
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("there-1").setModel("there-llm")
        .setMocker(instant), "node-2")).await(30, SECONDS);
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("silent-1").setModel("silent-llm")
        .setMocker(instant), "node-1")).await(30, SECONDS);
    // A worker of this node that takes a request and never answers (its loop stuck, say): listed in its place.
    SameNodeWorkers.register(vertx, "silent-1", new SameNodeWorkers.Worker() {
      @Override
      public void open(GenerateRequest request, Context gatewayContext, SameNodeWorkers.Stream gateway) {
        silentCalls.add("open " + request.streamId());
      }

      @Override
      public void grant(String streamId, int credits) {
      }

      @Override
      public void cancel(String streamId, String reason) {
        silentCalls.add("cancel " + streamId + ": " + reason);
      }
    });
    GatewayVerticle gateway = new GatewayVerticle(new GatewayOptions().setHttpPort(0).setRegistryResyncMs(300)
        .setAcceptTimeoutMs(ACCEPT_TIMEOUT_MS).setAdmissionQueueSize(0),
        ClusterView.standalone("node-1"), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    vertx.deployVerticle(gateway).await(30, SECONDS);
    port = gateway.actualPort();
    Eventually.read(ofSeconds(10), "the three workers are routable", () -> RawHttp.get(port, "/admin/cluster", "").json(),
        cluster -> cluster.getJsonArray("workers").stream().map(JsonObject.class::cast)
            .filter(worker -> "routable".equals(worker.getString("status"))).count() >= 3);
  }

  @Test
  void theSameNodesWorkerAnswersExactlyAsAnotherNodesDoesStreamedOrNot() throws Exception {
    String here = whole("here-llm");
    String there = whole("there-llm");
    assertThat(here).isNotBlank();
    assertThat(here).isEqualTo(there);
    assertThat(streamed("here-llm")).isEqualTo(here);
    assertThat(streamed("there-llm")).isEqualTo(here);
    // Only the other node's worker was reached over the event bus.
    assertThat(sends.getOrDefault(Addresses.workerGenerate("here-1"), 0)).isZero();
    assertThat(sends.getOrDefault(Addresses.workerGenerate("there-1"), 0)).isGreaterThanOrEqualTo(2);
  }

  @Test
  void aWorkerOnThisNodeThatDoesNotAcceptInTimeIsRefusedAndToldToCancel() throws Exception {
    long started = System.nanoTime();
    RawHttp.Response response = RawHttp.post(port, "/v1/chat/completions", body("silent-llm", "hello", false), "");
    long tookMs = (System.nanoTime() - started) / 1_000_000;
    assertThat(response.status()).as(response.body()).isEqualTo(503);
    assertThat(response.json().getJsonObject("error").getString("code")).isEqualTo("workers_busy");
    assertThat(response.json().getJsonObject("error").getString("message"))
        .contains("worker silent-1 on this node did not accept the request within " + ACCEPT_TIMEOUT_MS + " ms");
    // Refused by the stream sweep (every 500 ms), so within the accept timeout plus one sweep, with slack.
    assertThat(tookMs).isGreaterThanOrEqualTo(ACCEPT_TIMEOUT_MS).isLessThan(5_000);
    // The cancel goes out just after the refusal, so it may trail the response a little.
    Eventually.within(ofSeconds(5), "the silent worker was sent the cancel", () -> silentCalls.size() >= 2);
    assertThat(silentCalls).hasSize(2);
    String streamId = silentCalls.get(0).substring("open ".length());
    assertThat(silentCalls.get(1)).isEqualTo("cancel " + streamId + ": acceptance timed out; sent to another worker");
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
