package io.switchboard.gateway;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.micrometer.core.instrument.Meter;
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
import net.logstash.logback.encoder.LogstashEncoder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static java.time.Duration.ofSeconds;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Nothing a client names creates state or log volume that grows with the number of names: thousands of requests,
 * each with its own 4 KB model name, 4 KB user, session id, request id, path, header name, trace state and wrong API
 * key, against a real gateway and worker. Afterwards the meters carry only model tags the cluster knows,
 * {@code /metrics} is small, no log line repeats a 4 KB name, client errors are logged at a bounded rate, and no
 * request is left open. A client reusing one request id for two requests gets two entries in /admin/requests.
 */
@ExtendWith(VertxExtension.class)
class ClientChosenNamesTest {

  private static final String MODEL = "bounded-llm";
  private static final String SLOW_MODEL = "bounded-slow-llm";
  private static final String KEY = "sk-bounded-test-0001";
  private static final String ADMIN_KEY = "admin-key-bounded";
  private static final int ROUNDS = 1500;
  /** How much of /metrics the test reads at most (without the bound, it was hundreds of MB). */
  private static final long SCRAPE_READ_LIMIT = 16L << 20;
  private static int port;
  private static final PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("bounded-w").setModel(MODEL).setSlots(64)
        .setMocker(new MockerOptions().setPrefillTokensPerSecond(0).setDecodeTokensPerSecond(0)), "node-w"))
        .await(30, SECONDS);
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("bounded-slow-w").setModel(SLOW_MODEL)
        .setMocker(new MockerOptions().setDecodeTokensPerSecond(20)), "node-w")).await(30, SECONDS);
    // Session affinity keeps a map keyed by the client's session names: the flood goes through it.
    GatewayVerticle gateway = new GatewayVerticle(new GatewayOptions().setHttpPort(0).setRegistryResyncMs(300)
        .setRoutingPolicy("session-affinity").setApiKeys(List.of(KEY)).setAdminKey(ADMIN_KEY),
        ClusterView.standalone("node-g"), meters);
    vertx.deployVerticle(gateway).await(30, SECONDS);
    port = gateway.actualPort();
    Eventually.within(ofSeconds(10), "the workers become routable",
        () -> chat(MODEL, "warm-up", "", 1).status() == 200 && chat(SLOW_MODEL, "warm-up", "", 1).status() == 200);
  }

  @Test
  void thousandsOfClientChosenNamesLeaveMetersAndLogsBounded() throws Exception {
    LoggerContext logs = (LoggerContext) LoggerFactory.getILoggerFactory();
    ch.qos.logback.classic.Logger switchboard = logs.getLogger("io.switchboard");
    Level level = switchboard.getLevel();
    ListAppender<ILoggingEvent> captured = new ListAppender<>();
    captured.setContext(logs);
    captured.start();
    // What production logs (INFO and up, io.switchboard), captured instead of printed.
    switchboard.setLevel(Level.INFO);
    switchboard.setAdditive(false);
    switchboard.addAppender(captured);
    int requests = 0;
    int longestErrorBody = 0;
    long startedMs = System.currentTimeMillis();
    try {
      for (int i = 0; i < ROUNDS; i++) {
        String unique = "n" + i + "-" + "x".repeat(4096);
        String requestId = ("req-" + i + "-").concat("r".repeat(128)).substring(0, 128);
        String headers = "Authorization: Bearer " + KEY + "\r\n"
            + "x-session-id: s" + i + "-" + "s".repeat(2048) + "\r\n"
            + "x-request-id: " + requestId + "\r\n"
            + "x-attack-" + i + "-" + "h".repeat(200) + ": v\r\n"
            + "traceparent: 00-" + String.format("%032x", i + 1) + "-00000000000000aa-01\r\n"
            + "tracestate: v" + i + "=" + "t".repeat(4000) + "\r\n";
        RawHttp.Response unknownModel = RawHttp.post(port, "/v1/chat/completions", chatBody(unique, unique, 1),
            headers);
        assertThat(unknownModel.status()).isEqualTo(404);
        RawHttp.Response served = RawHttp.post(port, "/v1/chat/completions", chatBody(MODEL, unique, 1), headers);
        assertThat(served.status()).as(served.body()).isEqualTo(200);
        RawHttp.Response unknownPath = RawHttp.get(port, "/v1/" + unique.substring(0, 2048), headers);
        assertThat(unknownPath.status()).isEqualTo(404);
        longestErrorBody = Math.max(longestErrorBody, Math.max(unknownModel.body().length(),
            unknownPath.body().length()));
        RawHttp.Response wrongKey = RawHttp.get(port, "/v1/models", "Authorization: Bearer sk-" + unique + "\r\n");
        assertThat(wrongKey.status()).isEqualTo(401);
        requests += 4;
      }
    } finally {
      // The last requests' log lines may still be on their way from the event loop.
      Thread.sleep(300);
      switchboard.detachAppender(captured);
      switchboard.setAdditive(true);
      switchboard.setLevel(level);
    }
    long elapsedMs = System.currentTimeMillis() - startedMs;

    Set<String> modelTags = new TreeSet<>();
    for (Meter meter : meters.getMeters()) {
      String model = meter.getId().getTag("model");
      if (model != null) {
        modelTags.add(model);
      }
    }
    LogstashEncoder json = new LogstashEncoder();
    json.setContext(logs);
    json.start();
    long logBytes = 0;
    int longestLine = 0;
    int clientErrorLines = 0;
    List<ILoggingEvent> events = new ArrayList<>(captured.list);
    for (ILoggingEvent event : events) {
      int bytes = json.encode(event).length;
      logBytes += bytes;
      longestLine = Math.max(longestLine, bytes);
      if ("request failed".equals(event.getMessage())
          && String.valueOf(List.of(event.getArgumentArray())).contains("status=404")) {
        clientErrorLines++;
      }
    }
    System.out.printf("client-chosen names: %d requests in %d ms; %d model tags (%s); %d meters; log %d lines, %d "
            + "bytes (%d per request), longest line %d bytes, 404 lines %d; longest 404 body %d chars%n", requests,
        elapsedMs, modelTags.size(), modelTags.size() > 3 ? "..." : modelTags, meters.getMeters().size(),
        events.size(), logBytes, logBytes / requests, longestLine, clientErrorLines, longestErrorBody);
    assertThat(modelTags).as("model tags: only models the cluster serves, and one value for the rest")
        .hasSizeLessThanOrEqualTo(3).isSubsetOf(MODEL, SLOW_MODEL, "unknown");
    assertThat(meters.getMeters().size()).as("meters after %d requests", requests).isLessThan(100);
    HttpResponse<InputStream> scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + port + "/metrics")).header("authorization", "Bearer " + ADMIN_KEY).build(),
        HttpResponse.BodyHandlers.ofInputStream());
    long scrapeBytes = 0;
    try (InputStream body = scrape.body()) {
      byte[] buffer = new byte[65536];
      for (int n; scrapeBytes < SCRAPE_READ_LIMIT && (n = body.read(buffer)) > 0; ) {
        scrapeBytes += n;
      }
    }
    System.out.printf("client-chosen names: /metrics %d, %d bytes%n", scrape.statusCode(), scrapeBytes);
    assertThat(scrape.statusCode()).isEqualTo(200);
    assertThat(scrapeBytes).as("/metrics bytes").isLessThan(256 * 1024);
    assertThat(longestErrorBody).as("404 bodies repeat a name only in part").isLessThan(1024);
    assertThat(longestLine).as("longest log line, bytes: no client's 4 KB name in full").isLessThan(2048);
    assertThat(logBytes / requests).as("log bytes per request").isLessThan(512);
    assertThat(clientErrorLines).as("404 lines: at most 10 a second")
        .isLessThanOrEqualTo(10 * (int) (elapsedMs / 1000 + 2));

    JsonObject open = RawHttp.get(port, "/admin/requests", "Authorization: Bearer " + ADMIN_KEY + "\r\n").json();
    assertThat(open.getInteger("count")).as("no request is left open").isZero();
  }

  @Test
  void twoRequestsWithOneRequestIdAreBothTracked() throws Exception {
    String sameId = "same-request-id-1";
    ExecutorService clients = Executors.newFixedThreadPool(2);
    Future<RawHttp.Response> shortOne = clients.submit(() -> slowChat(sameId, 10));
    Future<RawHttp.Response> longOne = clients.submit(() -> slowChat(sameId, 60));
    clients.shutdown();
    Eventually.read(ofSeconds(3), "both requests with id " + sameId + " in /admin/requests",
        ClientChosenNamesTest::openRequests, seen -> seen == 2);
    assertThat(shortOne.get().status()).isEqualTo(200);
    assertThat(openRequests()).as("the other one is still listed after the first ended").isEqualTo(1);
    assertThat(longOne.get().status()).isEqualTo(200);
    assertThat(openRequests()).isZero();
  }

  private static int openRequests() {
    try {
      return RawHttp.get(port, "/admin/requests", "Authorization: Bearer " + ADMIN_KEY + "\r\n").json()
          .getInteger("count");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static RawHttp.Response slowChat(String requestId, int tokens) {
    try {
      return RawHttp.post(port, "/v1/chat/completions", chatBody(SLOW_MODEL, "u", tokens),
          "Authorization: Bearer " + KEY + "\r\nx-request-id: " + requestId + "\r\n");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static RawHttp.Response chat(String model, String user, String headers, int maxTokens) throws Exception {
    return RawHttp.post(port, "/v1/chat/completions", chatBody(model, user, maxTokens),
        "Authorization: Bearer " + KEY + "\r\n" + headers);
  }

  private static String chatBody(String model, String user, int maxTokens) {
    return new JsonObject().put("model", model).put("user", user).put("max_tokens", maxTokens)
        .put("messages", new io.vertx.core.json.JsonArray().add(new JsonObject().put("role", "user")
            .put("content", "hello"))).encode();
  }
}
