package io.switchboard.gateway.exchange;

import io.switchboard.gateway.exchange.DialectsOverScriptedPlaneTest.Script;
import io.switchboard.gateway.exchange.DialectsOverScriptedPlaneTest.ScriptedPlane;
import io.switchboard.gateway.models.ModelsOptions;
import io.switchboard.gateway.registry.WorkerState;
import io.switchboard.protocol.Addresses;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.LoadReport;
import io.switchboard.protocol.ModelCatalog;
import io.switchboard.protocol.ModelCommand;
import io.switchboard.protocol.ModelEntry;
import io.switchboard.protocol.StreamChunk;
import io.switchboard.protocol.Usage;
import io.switchboard.protocol.WorkerDescriptor;
import io.switchboard.testsupport.Eventually;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.servicediscovery.Record;
import io.vertx.servicediscovery.ServiceDiscovery;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Placement over the real exchange, admission queue and dialects, in front of the scripted plane, with two model
 * directory workers whose catalogs the test reports and whose load commands (on their event-bus models address) it
 * answers: a model loaded on one worker goes there; a model loaded nowhere is loaded once, on the worker with the most
 * room, while the requests for it are held (a stream gets keep-alive comments), and then offered to that worker; a
 * failed load ends the held requests naming the model, the worker and the cause, or sends an alias to its next model;
 * a load that outlasts the admission timeout ends with 503; /v1/models and the cluster view show the states.
 */
class PlacementOverScriptedPlaneTest {

  private static final long GIB = 1L << 30;
  private static final String KEY = "sk-open-key-1";
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private static final AtomicInteger IDS = new AtomicInteger();
  /** What the fake worker says when asked to load the corrupt model, as the real one says it. */
  private static final String CORRUPT_CAUSE = "llama-server exited with status 1 while loading it: "
      + "gguf_init_from_file_impl: failed to read tensor info";

  private static Vertx vertx;
  private static ScriptedPlane plane;
  private static ScriptedGateway gateway;
  private static ServiceDiscovery discovery;
  private static long reportTimer;
  /** worker -> model -> state, as each worker's load reports say it. */
  private static final Map<String, Map<String, String>> STATES = new ConcurrentHashMap<>();
  /** worker:model -> when the worker tries the model again after its failed load (backoff-llm only). */
  private static final Map<String, Long> RETRY_AT = new ConcurrentHashMap<>();
  /** Load commands received, "worker:model", in order. */
  private static final List<String> COMMANDS = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    plane = new ScriptedPlane();
    Map<String, List<String>> aliases = new LinkedHashMap<>();
    aliases.put("lib-chat", List.of("corrupt-llm", "warm-llm"));
    aliases.put("lib-backoff", List.of("backoff-llm", "warm-llm"));
    aliases.put("lib-stream", List.of("flaky-llm", "warm-llm"));
    gateway = new ScriptedGateway(plane, new ModelsOptions().setAliases(aliases), 16, AliasFallbackTest.KEYS);
    vertx.deployVerticle(gateway).await(30, TimeUnit.SECONDS);
    discovery = ServiceDiscovery.create(vertx);
    for (String worker : List.of("w-roomy", "w-tight")) {
      Map<String, String> states = new ConcurrentHashMap<>();
      for (String model : List.of("warm-llm", "cold-llm", "corrupt-llm", "slow-llm", "backoff-llm",
          "flaky-llm")) {
        states.put(model, ModelEntry.UNLOADED);
      }
      STATES.put(worker, states);
      vertx.eventBus().<JsonObject>consumer(Addresses.workerModels(worker), message -> onLoad(worker, message));
    }
    STATES.get("w-tight").put("warm-llm", ModelEntry.LOADED);
    for (String worker : STATES.keySet()) {
      WorkerDescriptor descriptor = new WorkerDescriptor(worker, "node-" + worker, "", "llamacpp", 4, 4096,
          new JsonObject(), List.of(), catalog(worker));
      discovery.publish(new Record().setType(WorkerDescriptor.RECORD_TYPE).setName(descriptor.recordName())
          .setLocation(descriptor.endpoints()).setMetadata(descriptor.toJson())).await(10, TimeUnit.SECONDS);
    }
    reportLoad();
    reportTimer = vertx.setPeriodic(200, id -> reportLoad());
    Eventually.within(ofSeconds(10), "both library workers routable", () -> gateway.onContext(() ->
        gateway.registry.allWorkers().stream().filter(WorkerState::routable).count()) == 2);
  }

  /**
   * The workers' catalogs: w-roomy has a 32 GiB budget and nothing loaded, w-tight a 4 GiB budget with warm-llm (2
   * GiB) loaded; every model is 1 GiB but warm-llm.
   */
  private static ModelCatalog catalog(String worker) {
    List<ModelEntry> entries = new ArrayList<>();
    STATES.get(worker).forEach((model, state) -> entries.add(new ModelEntry(model, "warm-llm".equals(model)
        ? 2 * GIB : GIB, state, ModelEntry.FAILED.equals(state) ? "model '" + model + "' failed to load on worker "
        + worker + ": " + CORRUPT_CAUSE : null, List.of(), 0, RETRY_AT.getOrDefault(worker + ":" + model, 0L))));
    entries.sort(java.util.Comparator.comparing(ModelEntry::name));
    return new ModelCatalog(entries, entries.size(), "w-roomy".equals(worker) ? 32 * GIB : 4 * GIB, 64 * GIB);
  }

  private static void reportLoad() {
    long now = System.currentTimeMillis();
    for (String worker : STATES.keySet()) {
      vertx.eventBus().publish(Addresses.LOAD_REPORTS, new LoadReport(worker, "node-" + worker, "", 0, 0, 4, 4, false,
          now, null, List.copyOf(STATES.get(worker).keySet()), null, null, null, catalog(worker)).toJson());
    }
  }

  /** The fake worker's load: cold-llm in 600 ms, slow-llm in 5 s, corrupt-llm fails as llama-server exits. */
  private static void onLoad(String worker, Message<JsonObject> message) {
    ModelCommand command = ModelCommand.fromJson(message.body());
    String model = command.model();
    COMMANDS.add(worker + ":" + model);
    Map<String, String> states = STATES.get(worker);
    if ("corrupt-llm".equals(model) || "backoff-llm".equals(model) || "flaky-llm".equals(model)) {
      states.put(model, ModelEntry.LOADING);
      vertx.setTimer(200, id -> {
        if ("backoff-llm".equals(model)) {
          // As a real worker does: it backs off, and says until when in its catalog.
          RETRY_AT.put(worker + ":" + model, System.currentTimeMillis() + 60_000);
        }
        states.put(model, ModelEntry.FAILED);
        GenerateError error = GenerateError.of(GenerateError.Code.ENGINE_FAILED, "model '" + model
            + "' failed to load on worker " + worker + ": " + CORRUPT_CAUSE, worker);
        message.fail(error.code().wireCode(), error.toJson().encode());
      });
      return;
    }
    states.put(model, ModelEntry.LOADING);
    vertx.setTimer("slow-llm".equals(model) ? 5000 : 600, id -> {
      states.put(model, ModelEntry.LOADED);
      message.reply(new ModelEntry(model, GIB, ModelEntry.LOADED, null, List.of(), 0).toJson()
          .put("workerId", worker));
    });
  }

  @AfterAll
  static void stop() throws Exception {
    if (vertx != null) {
      vertx.cancelTimer(reportTimer);
      if (discovery != null) {
        discovery.close();
      }
      vertx.close().await(20, TimeUnit.SECONDS);
    }
  }

  @Test
  void aModelLoadedOnOneWorkerGoesThereAndNothingIsLoaded() throws Exception {
    for (int i = 0; i < 4; i++) {
      String id = nextId("warm");
      plane.script(id, answer("warm"));
      HttpResponse<String> response = post(id, chat("warm-llm", false));
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      assertThat(plane.onlyOffer(id).workerId()).isEqualTo("w-tight");
    }
    assertThat(COMMANDS).noneMatch(c -> c.endsWith(":warm-llm"));
  }

  @Test
  void concurrentRequestsForAColdModelMakeOneLoadOnTheRoomiestWorkerAndAreHeldUntilItIsDone() throws Exception {
    List<String> ids = new ArrayList<>();
    List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      String id = nextId("cold");
      ids.add(id);
      plane.script(id, answer("cold answer"));
      responses.add(postAsync(id, chat("cold-llm", i == 0)));
    }
    Eventually.within(ofSeconds(10), "a load under way", () -> COMMANDS.contains("w-roomy:cold-llm"));
    Eventually.within(ofSeconds(10), "all five held",
        () -> gateway.onContext(() -> gateway.services.admission().held("cold-llm")) == 5);
    JsonObject placement = gateway.onContext(() -> gateway.cluster.clusterView()).getJsonObject("placement");
    assertThat(placement.getJsonArray("loading").getJsonObject(0).getMap()).containsEntry("model", "cold-llm")
        .containsEntry("workerId", "w-roomy").containsEntry("requestsHeld", 5);
    assertThat(ids).allMatch(id -> plane.offersOf(id).isEmpty());

    for (int i = 0; i < ids.size(); i++) {
      HttpResponse<String> response = responses.get(i).get(20, TimeUnit.SECONDS);
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      assertThat(plane.onlyOffer(ids.get(i)).workerId()).isEqualTo("w-roomy");
      assertThat(response.body()).contains("cold answer");
    }
    // The stream was kept alive while the model loaded: a comment before the first event.
    String streamed = responses.get(0).get().body();
    assertThat(streamed).startsWith(": loading model cold-llm on worker w-roomy\n\n");
    assertThat(streamed).endsWith("data: [DONE]\n\n");
    assertThat(COMMANDS.stream().filter(c -> c.endsWith(":cold-llm"))).containsExactly("w-roomy:cold-llm");
    assertThat(gateway.onContext(() -> gateway.services.admission().waiting("cold-llm"))).isZero();
    assertThat(gateway.onContext(() -> gateway.services.placement().loadsUnderWay())).isZero();
  }

  @Test
  void aFailedLoadEndsTheHeldRequestsNamingTheModelTheWorkerAndTheCause() throws Exception {
    String whole = nextId("corrupt");
    String streamed = nextId("corrupt-stream");
    CompletableFuture<HttpResponse<String>> first = postAsync(whole, chat("corrupt-llm", false));
    CompletableFuture<HttpResponse<String>> second = postAsync(streamed, chat("corrupt-llm", true));
    HttpResponse<String> response = first.get(20, TimeUnit.SECONDS);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(502);
    JsonObject error = new JsonObject(response.body()).getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo("model_load_failed");
    assertThat(error.getString("message")).contains("'corrupt-llm'").contains("w-roomy").contains(CORRUPT_CAUSE);
    // The stream had its head (and a keep-alive) already: the failure is its last event, and no [DONE].
    HttpResponse<String> stream = second.get(20, TimeUnit.SECONDS);
    assertThat(stream.body()).startsWith(": loading model corrupt-llm").contains("model_load_failed")
        .contains(CORRUPT_CAUSE).doesNotContain("[DONE]");
    assertThat(plane.offersOf(whole)).isEmpty();
    assertThat(COMMANDS.stream().filter(c -> c.endsWith(":corrupt-llm")).count()).isGreaterThanOrEqualTo(1);

    JsonObject view = gateway.onContext(() -> gateway.cluster.clusterView());
    assertThat(view.getJsonObject("placement").getJsonArray("lastFailures").stream().map(JsonObject.class::cast)
        .filter(f -> "corrupt-llm".equals(f.getString("model"))).findFirst().orElseThrow().getString("reason"))
        .contains(CORRUPT_CAUSE);
    Eventually.within(ofSeconds(10), "the worker's report shows the failure", () -> gateway.onContext(() -> gateway.cluster.clusterView())
        .getJsonArray("workers").stream().map(JsonObject.class::cast)
        .filter(w -> "w-roomy".equals(w.getString("workerId"))).findFirst().orElseThrow()
        .getJsonObject("library").getJsonArray("failed").encode().contains(CORRUPT_CAUSE));
  }

  @Test
  void anAliasWhoseFirstModelFailsToLoadFallsBackToItsNextModel() throws Exception {
    String id = nextId("alias");
    plane.script(id, answer("from warm"));
    HttpResponse<String> response = post(id, chat("lib-chat", false));
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(plane.onlyOffer(id).request().model()).isEqualTo("warm-llm");
    assertThat(plane.onlyOffer(id).workerId()).isEqualTo("w-tight");
    assertThat(new JsonObject(response.body()).getString("model")).isEqualTo("warm-llm");
  }

  private static boolean backsOff(String worker, String model) {
    return gateway.onContext(() -> gateway.registry.allWorkers().stream()
        .filter(w -> w.workerId().equals(worker)).anyMatch(w -> w.catalog().lookup(model) != null
            && w.catalog().lookup(model).backingOff(System.currentTimeMillis())));
  }

  private static long commandsFor(String model) {
    return COMMANDS.stream().filter(c -> c.endsWith(":" + model)).count();
  }

  @Test
  void aModelThatBacksOffOnEveryWorkerFailsAtOnceWithTheRecordedFailureAndNoLoadCommand() throws Exception {
    HttpResponse<String> first = post(nextId("backoff"), chat("backoff-llm", false));
    assertThat(first.statusCode()).as(first.body()).isEqualTo(502);
    assertThat(COMMANDS).contains("w-roomy:backoff-llm");
    Eventually.within(ofSeconds(10), "w-roomy reports its back-off", () -> backsOff("w-roomy", "backoff-llm"));

    // The roomiest worker backs off: the next request loads the model on the other worker, not there again.
    HttpResponse<String> second = post(nextId("backoff"), chat("backoff-llm", false));
    assertThat(second.statusCode()).as(second.body()).isEqualTo(502);
    assertThat(COMMANDS.stream().filter(c -> c.endsWith(":backoff-llm")))
        .containsExactly("w-roomy:backoff-llm", "w-tight:backoff-llm");
    Eventually.within(ofSeconds(10), "w-tight reports its back-off", () -> backsOff("w-tight", "backoff-llm"));

    // Both back off: requests get the recorded failure at once, with when it is tried again, and no load starts.
    long before = System.nanoTime();
    HttpResponse<String> whole = post(nextId("backoff"), chat("backoff-llm", false));
    HttpResponse<String> streamed = post(nextId("backoff-stream"), chat("backoff-llm", true));
    assertThat((System.nanoTime() - before) / 1_000_000).as("answered at once").isLessThan(2000);
    assertThat(whole.statusCode()).as(whole.body()).isEqualTo(502);
    JsonObject error = new JsonObject(whole.body()).getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo("model_load_failed");
    assertThat(error.getString("message")).contains("'backoff-llm'").contains(CORRUPT_CAUSE)
        .contains("it is not loaded again before").contains("every one of the 2 workers");
    assertThat(Long.parseLong(whole.headers().firstValue("retry-after").orElseThrow())).isBetween(50L, 60L);
    assertThat(streamed.statusCode()).as(streamed.body()).isEqualTo(502);
    assertThat(streamed.body()).contains("not loaded again before");
    assertThat(commandsFor("backoff-llm")).isEqualTo(2);

    // An alias over it goes on to its next model at once.
    String alias = nextId("backoff-alias");
    plane.script(alias, answer("from warm"));
    HttpResponse<String> fallback = post(alias, chat("lib-backoff", false));
    assertThat(fallback.statusCode()).as(fallback.body()).isEqualTo(200);
    assertThat(new JsonObject(fallback.body()).getString("model")).isEqualTo("warm-llm");
    assertThat(commandsFor("backoff-llm")).isEqualTo(2);

    // The cluster view's library shows when each worker tries it again.
    JsonArray workers = gateway.onContext(() -> gateway.cluster.clusterView()).getJsonArray("workers");
    for (int i = 0; i < workers.size(); i++) {
      JsonObject failed = workers.getJsonObject(i).getJsonObject("library").getJsonArray("failed").stream()
          .map(JsonObject.class::cast).filter(f -> "backoff-llm".equals(f.getString("model"))).findFirst()
          .orElseThrow();
      assertThat(failed.getLong("retryAtMs")).isEqualTo(RETRY_AT.get(workers.getJsonObject(i).getString("workerId")
          + ":backoff-llm"));
      assertThat(failed.getString("retryAt")).endsWith("Z");
    }
  }

  @Test
  void aStreamKeptAliveForALoadThatFailsFallsBackAndItsChunksNameTheModelThatServed() throws Exception {
    String id = nextId("alias-stream");
    plane.script(id, answer("from warm"));
    HttpResponse<String> response = post(id, chat("lib-stream", true));
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(response.body()).startsWith(": loading model flaky-llm").endsWith("data: [DONE]\n\n");
    // The head went out with the keep-alive, naming the model the stream waited for: the documented limitation.
    assertThat(response.headers().firstValue("x-switchboard-model")).contains("flaky-llm");
    // Every chunk names the model that served.
    List<String> chunks = response.body().lines().filter(line -> line.startsWith("data: {"))
        .map(line -> line.substring("data: ".length())).toList();
    assertThat(chunks).isNotEmpty().allSatisfy(chunk ->
        assertThat(new JsonObject(chunk).getString("model")).isEqualTo("warm-llm"));
    assertThat(plane.onlyOffer(id).request().model()).isEqualTo("warm-llm");
  }

  @Test
  void aLoadThatOutlastsTheAdmissionTimeoutEndsTheRequestWith503() throws Exception {
    String id = nextId("slow");
    HttpResponse<String> response = post(id, chat("slow-llm", false));
    assertThat(response.statusCode()).as(response.body()).isEqualTo(503);
    JsonObject error = new JsonObject(response.body()).getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo("model_loading");
    assertThat(error.getString("message")).contains("'slow-llm'").contains("gateway.admissionTimeoutMs");
    assertThat(response.headers().firstValue("retry-after")).contains("2");
    assertThat(plane.offersOf(id)).isEmpty();
  }

  @Test
  void modelsListEveryModelWithItsStatusAndAModelNobodyServesLeavesNothingBehind() throws Exception {
    HttpResponse<String> models = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
            + gateway.server.actualPort() + "/v1/models")).header("authorization", "Bearer " + KEY).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    JsonArray data = new JsonObject(models.body()).getJsonArray("data");
    Map<String, String> status = new LinkedHashMap<>();
    data.stream().map(JsonObject.class::cast).forEach(m -> status.put(m.getString("id"), m.getString("status")));
    assertThat(status).containsEntry("warm-llm", ModelEntry.LOADED).containsKeys("cold-llm", "corrupt-llm",
        "slow-llm", "lib-chat");
    assertThat(status.get("slow-llm")).isIn(ModelEntry.UNLOADED, ModelEntry.LOADING, ModelEntry.LOADED);

    int before = gateway.onContext(() -> gateway.services.placement().entries());
    for (int i = 0; i < 50; i++) {
      HttpResponse<String> response = post(nextId("ghost"), chat("ghost-model-" + i, false));
      assertThat(response.statusCode()).isEqualTo(404);
    }
    assertThat(gateway.onContext(() -> gateway.services.placement().entries())).isEqualTo(before);
    assertThat(gateway.onContext(() -> gateway.services.admission().lines())).isZero();
    assertThat(COMMANDS).noneMatch(c -> c.contains("ghost"));
  }

  private static Script answer(String text) {
    return new Script(r -> List.of(StreamChunk.delta(0, text, 1), StreamChunk.last(1, "", 0, "stop",
        new Usage(5, 1))), false);
  }

  private static JsonObject chat(String model, boolean stream) {
    return new JsonObject().put("model", model).put("stream", stream).put("messages", new JsonArray()
        .add(new JsonObject().put("role", "user").put("content", "hello")));
  }

  private static String nextId(String what) {
    return "placement-" + what + "-" + IDS.incrementAndGet();
  }

  private static HttpRequest request(String requestId, JsonObject body) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.server.actualPort()
            + "/v1/chat/completions"))
        .POST(HttpRequest.BodyPublishers.ofString(body.encode()))
        .header("content-type", "application/json").header("x-request-id", requestId)
        .header("authorization", "Bearer " + KEY).timeout(Duration.ofSeconds(20)).build();
  }

  private static HttpResponse<String> post(String requestId, JsonObject body) throws Exception {
    return HTTP.send(request(requestId, body), HttpResponse.BodyHandlers.ofString());
  }

  private static CompletableFuture<HttpResponse<String>> postAsync(String requestId, JsonObject body) {
    return HTTP.sendAsync(request(requestId, body), HttpResponse.BodyHandlers.ofString());
  }
}
