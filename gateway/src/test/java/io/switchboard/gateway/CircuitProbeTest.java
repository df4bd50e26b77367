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

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import static java.time.Duration.ofSeconds;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A half-open circuit's probe that ends in something that says nothing about the worker (the worker was busy,
 * the client hung up) must not shut the worker out: the next request probes it again and, as it answers, is
 * served by it. Through a real gateway and mocker workers whose prefill is slow for long prompts, so one long
 * prompt opens a circuit (no first token within gateway.firstTokenTimeoutMs; one failure opens it here) while
 * short prompts are answered at once. The gateway has no admission queue, so a request no worker can take is
 * answered 503 at once instead of waiting.
 */
@ExtendWith(VertxExtension.class)
class CircuitProbeTest {

  private static Vertx vertx;
  private static WorkerVerticle cancelWorker;
  private static WorkerVerticle busyWorker;
  private static int port;
  private static int holderPort;
  private static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    CircuitProbeTest.vertx = vertx;
    // 50 prompt tokens a second: a 300-word prompt takes 6 s to its first token, "hello" a few milliseconds.
    MockerOptions slowPrefill = new MockerOptions().setPrefillTokensPerSecond(50).setDecodeTokensPerSecond(20);
    cancelWorker = new WorkerVerticle(new WorkerOptions().setId("probe-cancel").setModel("cancel-llm")
        .setMocker(slowPrefill), "node-w");
    // One slot, no queue: while another request holds it, this worker answers "busy".
    busyWorker = new WorkerVerticle(new WorkerOptions().setId("probe-busy").setModel("busy-llm").setSlots(1)
        .setMaxQueue(0).setMocker(slowPrefill), "node-w");
    vertx.deployVerticle(cancelWorker).await(30, SECONDS);
    vertx.deployVerticle(busyWorker).await(30, SECONDS);
    GatewayVerticle gateway = new GatewayVerticle(new GatewayOptions().setHttpPort(0).setRegistryResyncMs(300)
        .setCircuitFailureThreshold(1).setCircuitOpenMs(300).setFirstTokenTimeoutMs(1000)
        .setAdmissionQueueSize(0), ClusterView.standalone("node-g"),
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    // A second gateway, with its own circuits, to fill the busy worker's slot.
    GatewayVerticle holder = new GatewayVerticle(new GatewayOptions().setHttpPort(0).setRegistryResyncMs(300),
        ClusterView.standalone("node-h"), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    vertx.deployVerticle(gateway).await(30, SECONDS);
    vertx.deployVerticle(holder).await(30, SECONDS);
    port = gateway.actualPort();
    holderPort = holder.actualPort();
    for (int onPort : new int[] {port, holderPort}) {
      for (String worker : new String[] {"probe-cancel", "probe-busy"}) {
        Eventually.within(ofSeconds(10), worker + " is routable",
            () -> "routable".equals(worker(onPort, worker).getString("status")));
      }
    }
  }

  @Test
  void aProbeThatFindsTheWorkerBusyLetsTheNextRequestProbeAgain() throws Exception {
    openCircuit("busy-llm", "probe-busy");
    try (SseClient hold = new SseClient(holderPort, "/v1/chat/completions", "{\"model\":\"busy-llm\","
        + "\"max_tokens\":2000,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hold\"}]}", 0)) {
      hold.nextData();
      Eventually.within(ofSeconds(10), "the circuit is half-open", () -> "half-open".equals(circuit("probe-busy")));
      HttpResponse<String> probe = chat("busy-llm", "hello");
      assertThat(probe.statusCode()).as(probe.body()).isEqualTo(503);
      assertThat(probe.body()).contains("probe-busy is full");
    }
    Eventually.within(ofSeconds(5), "the busy worker's slot is free",
        () -> busyWorker.load().await(30, SECONDS).inFlight() == 0);

    HttpResponse<String> next = chat("busy-llm", "hello again");
    assertThat(next.statusCode()).as(next.body()).isEqualTo(200);
    assertThat(next.headers().firstValue("x-switchboard-worker")).contains("probe-busy");
    assertThat(circuit("probe-busy")).isEqualTo("closed");
  }

  @Test
  void aProbeWhoseClientHangsUpLetsTheNextRequestProbeAgain() throws Exception {
    openCircuit("cancel-llm", "probe-cancel");
    Eventually.within(ofSeconds(10), "the circuit is half-open", () -> "half-open".equals(circuit("probe-cancel")));
    byte[] body = chatBody("cancel-llm", longPrompt()).getBytes(StandardCharsets.UTF_8);
    try (Socket probe = new Socket()) {
      probe.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      OutputStream out = probe.getOutputStream();
      out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
          + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(body);
      out.flush();
      Eventually.within(ofSeconds(5), "the probe waits for its first token on the worker",
          () -> cancelWorker.load().await(30, SECONDS).inFlight() == 1);
    }
    Eventually.within(ofSeconds(5), "the hang-up reached the worker",
        () -> cancelWorker.load().await(30, SECONDS).inFlight() == 0);

    HttpResponse<String> next = chat("cancel-llm", "hello");
    assertThat(next.statusCode()).as(next.body()).isEqualTo(200);
    assertThat(next.headers().firstValue("x-switchboard-worker")).contains("probe-cancel");
    assertThat(circuit("probe-cancel")).isEqualTo("closed");
  }

  @Test
  void aWorkerThatLeavesTakesItsCircuitAlong() throws Exception {
    MockerOptions slowPrefill = new MockerOptions().setPrefillTokensPerSecond(50).setDecodeTokensPerSecond(20);
    String deployment = vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("leaver")
        .setModel("leave-llm").setMocker(slowPrefill), "node-l")).await(30, SECONDS);
    Eventually.within(ofSeconds(10), "leaver is routable",
        () -> "routable".equals(worker(port, "leaver").getString("status")));
    openCircuit("leave-llm", "leaver");

    vertx.undeploy(deployment).await(30, SECONDS);
    Eventually.within(ofSeconds(10), "the gateway forgot the worker", () -> worker(port, "leaver").isEmpty());
    // The same worker id again (a restarted worker): a new worker to this gateway, with a closed circuit.
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("leaver").setModel("leave-llm")
        .setMocker(slowPrefill), "node-l")).await(30, SECONDS);
    Eventually.within(ofSeconds(10), "leaver is back",
        () -> "routable".equals(worker(port, "leaver").getString("status")));
    JsonObject circuit = worker(port, "leaver").getJsonObject("circuit");
    assertThat(circuit.getString("state")).as(circuit.encode()).isEqualTo("closed");
    assertThat(circuit.getString("lastFailure")).as(circuit.encode()).isNull();
  }

  /** A long prompt gets no first token in time: the worker's circuit opens (threshold 1). */
  private static void openCircuit(String model, String workerId) throws Exception {
    HttpResponse<String> failed = chat(model, longPrompt());
    assertThat(failed.statusCode()).as(failed.body()).isGreaterThanOrEqualTo(500);
    assertThat(circuit(workerId)).isEqualTo("open");
  }

  /** 300 words the worker has not seen (so no cached prefix makes its prefill fast). */
  private static String longPrompt() {
    return ("words" + System.nanoTime() + " ").repeat(1) + "lorem ".repeat(300);
  }

  private static String chatBody(String model, String prompt) {
    return new JsonObject().put("model", model).put("max_tokens", 3).put("messages", new io.vertx.core.json.JsonArray()
        .add(new JsonObject().put("role", "user").put("content", prompt))).encode();
  }

  private static HttpResponse<String> chat(String model, String prompt) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
        .header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(chatBody(model, prompt))).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String circuit(String workerId) throws Exception {
    return worker(port, workerId).getJsonObject("circuit", new JsonObject()).getString("state");
  }

  private static JsonObject worker(int onPort, String workerId) throws Exception {
    HttpResponse<String> admin = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + onPort
        + "/admin/cluster")).GET().build(), HttpResponse.BodyHandlers.ofString());
    return new JsonObject(admin.body()).getJsonArray("workers").stream().map(JsonObject.class::cast)
        .filter(w -> workerId.equals(w.getString("workerId"))).findFirst().orElse(new JsonObject());
  }
}
