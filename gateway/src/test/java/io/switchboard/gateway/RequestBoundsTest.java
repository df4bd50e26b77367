package io.switchboard.gateway;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.gateway.cluster.ClusterView;
import io.switchboard.gateway.config.GatewayOptions;
import io.switchboard.gateway.security.LimitOptions;
import io.switchboard.gateway.security.RateLimitOptions;
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

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static java.time.Duration.ofSeconds;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the requests in progress may hold: a budget of request-body bytes per gateway (reserved at the request's
 * head, so a client that sends a head and then stalls holds its share from the start) and a cap of concurrent
 * requests per API key. Each bound refuses past it, and gives back exactly what each request took, however it
 * ended: thousands of requests that complete, fail, are refused at each step, time out in the queue, or whose
 * clients hang up, leave nothing held.
 */
@ExtendWith(VertxExtension.class)
class RequestBoundsTest {

  private static final long MAX_BODY = 64 * 1024;
  private static final long BUDGET = 4 * MAX_BODY;
  private static final int HELD_BODY = 60_000;
  private static final String CAPPED = "sk-rb-capped-0001";
  private static final String FREE = "sk-rb-free-0002";
  private static final String LIMITED = "sk-rb-limited-0003";
  private static final String NARROW = "sk-rb-narrow-0004";
  private static final String ADMIN = "Authorization: Bearer rb-admin-key-0000\r\n";
  private static int port;
  private static final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("rb-fast-w").setModel("rb-fast")
        .setSlots(64).setMocker(new MockerOptions().setDecodeTokensPerSecond(5000)), "node-rb-w")).await(30, SECONDS);
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("rb-slow-w").setModel("rb-slow")
        .setSlots(64).setMocker(new MockerOptions().setDecodeTokensPerSecond(20)), "node-rb-w")).await(30, SECONDS);
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("rb-full-w").setModel("rb-full")
        .setSlots(1).setMaxQueue(0).setMocker(new MockerOptions().setDecodeTokensPerSecond(20)), "node-rb-w"))
        .await(30, SECONDS);
    GatewayVerticle gateway = new GatewayVerticle(new GatewayOptions().setHttpPort(0).setRegistryResyncMs(300)
        .setMaxBodyBytes(MAX_BODY).setAdminKey("rb-admin-key-0000").setAdmissionTimeoutMs(300)
        .setApiKeys(List.of(CAPPED + ";name=capped;concurrency=2", FREE + ";name=free", LIMITED + ";name=limited;rpm=5",
            NARROW + ";name=narrow;models=rb-fast"))
        .setRateLimits(new RateLimitOptions().setConcurrentRequests(500))
        .setLimits(new LimitOptions().setMaxInFlightBodyBytes(BUDGET).setRequestReadTimeoutMs(8000)
            .setMaxConnections(1000)),
        ClusterView.standalone("node-rb-g"), metrics);
    vertx.deployVerticle(gateway).await(30, SECONDS);
    port = gateway.actualPort();
    for (String model : List.of("rb-fast", "rb-slow", "rb-full")) {
      Eventually.read(ofSeconds(10), "the worker of " + model + " is routable", () -> chat(FREE, model, 1, false),
          answer -> answer.status() == 200);
    }
  }

  @Test
  void theBodyBudgetIsTakenAtTheHeadRefusedPastItAndGivenBack() throws Exception {
    List<Socket> stalled = new ArrayList<>();
    try {
      for (int i = 0; i < 4; i++) {
        stalled.add(stalledBody(FREE, HELD_BODY));
      }
      Eventually.read(ofSeconds(20), "the four stalled bodies are held", RequestBoundsTest::bounds,
          bounds -> bounds.getLong("bodyBytesInFlight") == 4L * HELD_BODY);
      RawHttp.Response refused = chat(FREE, "rb-fast", 1, false, HELD_BODY - 1000);
      assertThat(refused.status()).as(refused.body()).isEqualTo(503);
      assertThat(refused.error().getString("code")).isEqualTo("gateway_memory_budget");
      assertThat(refused.error().getString("message")).contains("gateway.limits.maxInFlightBodyBytes")
          .contains(String.valueOf(BUDGET));
      assertThat(refused.headers()).containsKey("retry-after");
      assertThat(chat(FREE, "rb-fast", 1, false).status()).as("a small body still fits").isEqualTo(200);
    } finally {
      for (Socket socket : stalled) {
        socket.close();
      }
    }
    Eventually.read(ofSeconds(20), "nothing is held", RequestBoundsTest::bounds, RequestBoundsTest::nothingHeld);
    assertThat(chat(FREE, "rb-fast", 1, false, HELD_BODY - 1000).status()).as("served once the others let go")
        .isEqualTo(200);
    assertThat(metrics.scrape()).contains("switchboard_client_refusals_total{reason=\"memory_budget\"}")
        .contains("switchboard_body_bytes_in_flight");
  }

  @Test
  void aKeyAtItsCapOfConcurrentRequestsGets429NamingItUntilOneEnds() throws Exception {
    Socket first = openStream(CAPPED, "rb-slow", 400);
    Socket second = openStream(CAPPED, "rb-slow", 400);
    try {
      RawHttp.Response refused = chat(CAPPED, "rb-fast", 1, false);
      assertThat(refused.status()).as(refused.body()).isEqualTo(429);
      assertThat(refused.error().getString("code")).isEqualTo("concurrency_limit_exceeded");
      assertThat(refused.error().getString("message")).contains("'capped'").contains("concurrency=2")
          .doesNotContain(CAPPED);
      assertThat(refused.headers()).containsKey("retry-after");
      assertThat(chat(FREE, "rb-fast", 1, false).status()).as("other keys are not affected").isEqualTo(200);
      assertThat(bounds().getJsonObject("concurrentRequestsByKey").getInteger("capped")).isEqualTo(2);
      first.close();
      Eventually.read(ofSeconds(20), "one request of the capped key is left", RequestBoundsTest::bounds,
          bounds -> bounds.getJsonObject("concurrentRequestsByKey").getInteger("capped") == 1);
      assertThat(chat(CAPPED, "rb-fast", 1, false).status()).as("one ended: room for another").isEqualTo(200);
    } finally {
      first.close();
      second.close();
    }
    Eventually.read(ofSeconds(20), "nothing is held", RequestBoundsTest::bounds, RequestBoundsTest::nothingHeld);
    assertThat(metrics.scrape()).contains("switchboard_client_refusals_total{reason=\"concurrency_limit\"}");
  }

  @Test
  void nothingIsHeldAfterThousandsOfRequestsThatEndInEveryWay() throws Exception {
    Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
    List<Callable<String>> tasks = new ArrayList<>();
    add(tasks, 600, () -> "" + chat(FREE, "rb-fast", 4, false).status());
    add(tasks, 300, () -> "stream " + chat(FREE, "rb-fast", 4, true).status());
    add(tasks, 300, () -> {
      RawHttp.Response r = chat(CAPPED, "rb-fast", 40, true);
      return r.status() + (r.status() == 429 ? " " + r.error().getString("code") : "");
    });
    add(tasks, 150, () -> "" + RawHttp.post(port, "/v1/chat/completions", "{\"model\": \"rb-fast\", \"mess",
        auth(FREE)).status());
    add(tasks, 150, () -> "" + chat(FREE, "rb-unknown", 4, false).status());
    add(tasks, 100, () -> {
      RawHttp.Response r = chat(FREE, "rb-fast", 4, false, (int) MAX_BODY + 5000);
      return r.status() + (r.status() != 413 ? " " + r.body() : "");
    });
    add(tasks, 100, () -> {
      RawHttp.Response r = chat(LIMITED, "rb-fast", 4, false);
      return r.status() + (r.status() == 429 ? " " + r.error().getString("code") : "");
    });
    add(tasks, 100, () -> "" + chat(NARROW, "rb-slow", 4, false).status());
    add(tasks, 150, () -> {
      openStream(FREE, "rb-slow", 400).close();
      return "stream hung up";
    });
    add(tasks, 150, () -> {
      stalledBody(FREE, 50_000).close();
      return "body hung up";
    });
    add(tasks, 60, () -> {
      RawHttp.Response r = chat(FREE, "rb-full", 10, false);
      return r.status() + (r.status() == 503 ? " " + r.error().getString("code") : "");
    });
    add(tasks, 12, () -> {
      try (Socket socket = stalledBody(FREE, 2000)) {
        socket.setSoTimeout(30_000);
        String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        return answer.startsWith("HTTP/1.1 408") ? "408" : "stalled: " + answer;
      }
    });
    java.util.Collections.shuffle(tasks, new java.util.Random(27));
    // The budget filled by clients that sent only their heads: bodies that would pass it are refused meanwhile.
    List<Socket> stalled = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      stalled.add(stalledBody(FREE, HELD_BODY));
    }
    Eventually.read(ofSeconds(20), "the four stalled bodies are held", RequestBoundsTest::bounds,
        bounds -> bounds.getLong("bodyBytesInFlight") >= 4L * HELD_BODY);
    for (int i = 0; i < 20; i++) {
      RawHttp.Response r = chat(FREE, "rb-fast", 4, false, HELD_BODY);
      outcomes.computeIfAbsent(r.status() + (r.status() == 503 ? " " + r.error().getString("code") : ""),
          k -> new AtomicInteger()).incrementAndGet();
    }
    for (Socket socket : stalled) {
      socket.close();
    }
    ExecutorService clients = Executors.newFixedThreadPool(16);
    try {
      List<Future<String>> done = clients.invokeAll(tasks, 5, TimeUnit.MINUTES);
      for (Future<String> outcome : done) {
        outcomes.computeIfAbsent(outcome.get(), k -> new AtomicInteger()).incrementAndGet();
      }
    } finally {
      clients.shutdownNow();
    }
    int total = outcomes.values().stream().mapToInt(AtomicInteger::get).sum();
    System.out.println("request-bounds: " + total + " requests, outcomes " + new java.util.TreeMap<>(outcomes));
    assertThat(total).isGreaterThanOrEqualTo(2000);
    assertThat(outcomes).containsKeys("200", "stream 200", "400", "403", "404", "413", "408",
        "429 rate_limit_exceeded", "429 concurrency_limit_exceeded", "503 gateway_memory_budget",
        "503 queue_timeout", "stream hung up", "body hung up");
    Eventually.read(ofSeconds(20), "nothing is held", RequestBoundsTest::bounds, RequestBoundsTest::nothingHeld);
    assertThat(chat(CAPPED, "rb-fast", 1, false).status()).as("the capped key is served again").isEqualTo(200);
    assertThat(chat(FREE, "rb-fast", 1, false, HELD_BODY).status()).as("the whole budget is free").isEqualTo(200);
  }

  private static void add(List<Callable<String>> tasks, int times, Callable<String> task) {
    for (int i = 0; i < times; i++) {
      tasks.add(task);
    }
  }

  /** Nothing held: no body bytes, no key with requests in progress. */
  private static boolean nothingHeld(JsonObject bounds) {
    return bounds.getLong("bodyBytesInFlight") == 0 && bounds.getJsonObject("concurrentRequestsByKey").isEmpty();
  }

  private static JsonObject bounds() throws IOException {
    RawHttp.Response cluster = RawHttp.get(port, "/admin/cluster", ADMIN);
    assertThat(cluster.status()).as(cluster.body()).isEqualTo(200);
    return cluster.json().getJsonObject("gateway").getJsonObject("requestBounds");
  }

  /** A client that sends its head (announcing {@code length} bytes) and a little of its body, then stalls. */
  private static Socket stalledBody(String key, int length) throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    socket.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth(key)
        + "Content-Type: application/json\r\nContent-Length: " + length + "\r\n\r\n{\"model\":\"rb-fast\",")
        .getBytes(StandardCharsets.US_ASCII));
    socket.getOutputStream().flush();
    return socket;
  }

  /** A streaming request whose answer has begun (status line read); the caller hangs up when it likes. */
  private static Socket openStream(String key, String model, int maxTokens) throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    socket.setSoTimeout(15_000);
    byte[] body = body(model, maxTokens, true, 0).getBytes(StandardCharsets.UTF_8);
    socket.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth(key)
        + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    socket.getOutputStream().write(body);
    socket.getOutputStream().flush();
    InputStream in = socket.getInputStream();
    StringBuilder head = new StringBuilder();
    while (head.indexOf("\r\n") < 0) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.append((char) b);
    }
    assertThat(head.toString()).as("the stream began").startsWith("HTTP/1.1 200");
    return socket;
  }

  private static RawHttp.Response chat(String key, String model, int maxTokens, boolean stream) throws IOException {
    return chat(key, model, maxTokens, stream, 0);
  }

  /** A chat request; {@code size} > 0 pads its body to about that many bytes. */
  private static RawHttp.Response chat(String key, String model, int maxTokens, boolean stream, int size)
      throws IOException {
    return RawHttp.post(port, "/v1/chat/completions", body(model, maxTokens, stream, size), auth(key));
  }

  private static String body(String model, int maxTokens, boolean stream, int size) {
    JsonObject body = new JsonObject().put("model", model).put("max_tokens", maxTokens).put("stream", stream)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hello")));
    if (size > 0) {
      body.put("user", "p".repeat(Math.max(0, size - body.encode().length() - 10)));
    }
    return body.encode();
  }

  private static String auth(String key) {
    return "Authorization: Bearer " + key + "\r\n";
  }
}
