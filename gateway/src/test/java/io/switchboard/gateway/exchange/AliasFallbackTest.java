package io.switchboard.gateway.exchange;

import io.switchboard.gateway.exchange.DialectsOverScriptedPlaneTest.Script;
import io.switchboard.gateway.exchange.DialectsOverScriptedPlaneTest.ScriptedPlane;
import io.switchboard.gateway.models.ModelsOptions;
import io.switchboard.gateway.registry.WorkerState;
import io.switchboard.gateway.security.ApiKeys;
import io.switchboard.protocol.Addresses;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.LoadReport;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.StreamChunk;
import io.switchboard.protocol.Usage;
import io.switchboard.protocol.WorkerDescriptor;
import io.switchboard.testsupport.Eventually;
import io.vertx.core.Vertx;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Aliases over the real exchange, router, dialects and key check, in front of the scripted plane: which model a
 * request for an alias goes to, when it falls back to the next (no worker, a worker that refuses or fails before the
 * first token, a prompt estimated over the model's context), and that the answer's model field and
 * x-switchboard-model name the model that served, in every dialect, streamed and whole. Each request carries its own
 * x-request-id; the plane plays the scripts queued for it, one per attempt, and records which worker and model each
 * attempt was offered to.
 */
class AliasFallbackTest {

  private static final String BIG = "big-llm";
  private static final String SMALL = "small-llm";
  /** Tokens big-llm's worker says its context holds: a 4,000-character prompt is estimated over it. */
  private static final int BIG_CONTEXT = 500;
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private static final AtomicInteger IDS = new AtomicInteger();
  private static final String OPEN_KEY = "sk-open-key-1";
  /** One key open, one listing the alias, one listing the small model, one listing another model. */
  static final List<ApiKeys.Entry> KEYS = List.of(
      new ApiKeys.Entry(OPEN_KEY + ";name=open", "test"),
      new ApiKeys.Entry("sk-alias-only-1;name=alias-only;models=chat", "test"),
      new ApiKeys.Entry("sk-small-only-1;name=small-only;models=" + SMALL, "test"),
      new ApiKeys.Entry("sk-other-only-1;name=other-only;models=other-llm", "test"));

  private static Vertx vertx;
  private static ScriptedPlane plane;
  private static ScriptedGateway gateway;
  /** The same, with an admission queue: a request every model of whose alias is full waits. */
  private static ScriptedGateway queueing;
  private static int queueingPort;
  private static ServiceDiscovery discovery;
  private static long reportTimer;
  private static int port;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    plane = new ScriptedPlane();
    Map<String, List<String>> aliases = new LinkedHashMap<>();
    aliases.put("chat", List.of(BIG, SMALL));
    aliases.put("ghost-first", List.of("nobody-serves-this", SMALL));
    aliases.put("all-ghosts", List.of("nobody-1", "nobody-2"));
    gateway = new ScriptedGateway(plane, new ModelsOptions().setAliases(aliases), 0, KEYS);
    vertx.deployVerticle(gateway).await(30, TimeUnit.SECONDS);
    port = gateway.server.actualPort();
    queueing = new ScriptedGateway(plane, new ModelsOptions().setAliases(aliases), 16, KEYS);
    vertx.deployVerticle(queueing).await(30, TimeUnit.SECONDS);
    queueingPort = queueing.server.actualPort();
    discovery = ServiceDiscovery.create(vertx);
    publish(new WorkerDescriptor("w-big", "node-big", BIG, "scripted", 4, BIG_CONTEXT, new JsonObject()));
    publish(new WorkerDescriptor("w-small", "node-small", SMALL, "scripted", 4, 32_768, new JsonObject()));
    reportLoad();
    reportTimer = vertx.setPeriodic(250, id -> reportLoad());
    for (ScriptedGateway each : List.of(gateway, queueing)) {
      Eventually.within(ofSeconds(10), "both scripted workers routable", () -> each.onContext(() ->
          each.registry.allWorkers().stream().filter(WorkerState::routable).count()) == 2);
    }
  }

  private static void publish(WorkerDescriptor descriptor) throws Exception {
    discovery.publish(new Record().setType(WorkerDescriptor.RECORD_TYPE).setName(descriptor.recordName())
        .setLocation(descriptor.endpoints()).setMetadata(descriptor.toJson())).await(10, TimeUnit.SECONDS);
  }

  private static void reportLoad() {
    long now = System.currentTimeMillis();
    vertx.eventBus().publish(Addresses.LOAD_REPORTS, new LoadReport("w-big", "node-big", BIG, 0, 0, 4, 4, false, now,
        null, null, List.of(BIG), null).toJson());
    vertx.eventBus().publish(Addresses.LOAD_REPORTS, new LoadReport("w-small", "node-small", SMALL, 0, 0, 4, 4, false,
        now, null, null, List.of(SMALL), null).toJson());
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

  // ---------------------------------------------------------------------------------------------------------------
  // Which model serves
  // ---------------------------------------------------------------------------------------------------------------

  @Test
  void anAliasGoesToItsFirstModelAndEveryDialectNamesIt() throws Exception {
    for (String dialect : DIALECTS) {
      for (boolean stream : streamsOf(dialect)) {
        String id = nextId("first-" + dialect + "-" + stream);
        plane.script(id, answer("Hello"));
        HttpResponse<String> response = post(path(dialect), id, body(dialect, "chat", "hello", stream));
        String what = dialect + (stream ? " streamed" : " whole");
        assertThat(response.statusCode()).as(what + ": " + response.body()).isEqualTo(200);
        assertThat(plane.onlyOffer(id).workerId()).as(what).isEqualTo("w-big");
        assertThat(plane.onlyOffer(id).request().model()).as(what).isEqualTo(BIG);
        assertThat(response.headers().firstValue(GenerationExchange.MODEL_HEADER)).as(what).contains(BIG);
        assertThat(modelsNamed(dialect, stream, response.body())).as(what).isNotEmpty().containsOnly(BIG);
      }
    }
  }

  @Test
  void aModelAskedForByItsOwnNameIsServedAsBeforeAndNamedInTheHeader() throws Exception {
    String id = nextId("direct");
    plane.script(id, answer("Hi"));
    HttpResponse<String> response = post(path("chat"), id, body("chat", SMALL, "hello", false));
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(plane.onlyOffer(id).workerId()).isEqualTo("w-small");
    assertThat(response.headers().firstValue(GenerationExchange.MODEL_HEADER)).contains(SMALL);
    assertThat(new JsonObject(response.body()).getString("model")).isEqualTo(SMALL);
  }

  @Test
  void aWorkerThatRefusesOrFailsBeforeTheFirstTokenSendsTheAliasToItsNextModel() throws Exception {
    for (String dialect : DIALECTS) {
      for (boolean stream : streamsOf(dialect)) {
        String what = dialect + (stream ? " streamed" : " whole");
        String id = nextId("fallback-" + dialect + "-" + stream);
        // The big model's only worker fails before its first token (as a backend that died does); the exchange's
        // retry path finds no other worker of it, and the alias goes on to its next model.
        plane.script(id, failsBeforeFirstToken(GenerateError.Code.ENGINE_FAILED), answer("Small answer"));
        HttpResponse<String> response = post(path(dialect), id, body(dialect, "chat", "hello", stream));
        assertThat(response.statusCode()).as(what + ": " + response.body()).isEqualTo(200);
        assertThat(plane.offersOf(id)).extracting(o -> o.workerId() + ":" + o.request().model())
            .as(what).containsExactly("w-big:" + BIG, "w-small:" + SMALL);
        assertThat(response.headers().firstValue(GenerationExchange.MODEL_HEADER)).as(what).contains(SMALL);
        assertThat(response.headers().firstValue(GenerationExchange.WORKER_HEADER)).as(what).contains("w-small");
        assertThat(modelsNamed(dialect, stream, response.body())).as(what).isNotEmpty().containsOnly(SMALL);
      }
    }
    String busy = nextId("busy");
    plane.script(busy, refusedWith(GenerateError.Code.WORKER_BUSY), answer("Small answer"));
    HttpResponse<String> response = post(path("chat"), busy, body("chat", "chat", "hello", false));
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(plane.offersOf(busy)).extracting(o -> o.request().model()).containsExactly(BIG, SMALL);
    assertThat(get("/metrics", OPEN_KEY).body())
        .contains("switchboard_alias_fallbacks_total{alias=\"chat\",from=\"" + BIG + "\",to=\"" + SMALL + "\"}");
  }

  @Test
  void whenEveryModelOfTheAliasIsFullTheRequestWaitsForTheFirstAndIsServedByIt() throws Exception {
    String id = nextId("all-full");
    // Both models' workers are full: the request waits in the first model's line (admission queue), is woken by its
    // poll, and the first model's worker, free again, serves it.
    plane.script(id, refusedWith(GenerateError.Code.WORKER_BUSY), refusedWith(GenerateError.Code.WORKER_BUSY),
        answer("Big answer"));
    HttpResponse<String> response = post(queueingPort, path("chat"), id, body("chat", "chat", "hello", false),
        OPEN_KEY);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(plane.offersOf(id)).extracting(o -> o.request().model()).containsExactly(BIG, SMALL, BIG);
    assertThat(new JsonObject(response.body()).getString("model")).isEqualTo(BIG);

    String timesOut = nextId("all-full-timeout");
    List<Script> busy = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      busy.add(refusedWith(GenerateError.Code.WORKER_BUSY));
    }
    plane.script(timesOut, busy.toArray(Script[]::new));
    response = post(queueingPort, path("chat"), timesOut, body("chat", "chat", "hello", false), OPEN_KEY);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(503);
    assertThat(new JsonObject(response.body()).getJsonObject("error").getString("message"))
        .contains("of model '" + BIG + "' (of the alias 'chat') stayed full");
    // Each wake tries the first model, then the second: never a model outside the alias.
    assertThat(plane.offersOf(timesOut)).extracting(o -> o.request().model()).containsOnly(BIG, SMALL)
        .startsWith(BIG, SMALL, BIG);
  }

  @Test
  void aFailureTheExchangeDoesNotRetryIsTheAnswerNotAFallback() throws Exception {
    String id = nextId("invalid");
    plane.script(id, refusedWith(GenerateError.Code.INVALID_REQUEST), answer("never"));
    HttpResponse<String> response = post(path("chat"), id, body("chat", "chat", "hello", false));
    assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
    assertThat(plane.offersOf(id)).extracting(o -> o.request().model()).containsExactly(BIG);
  }

  @Test
  void aStreamThatStartedStaysOnItsModelWhenItsWorkerFails() throws Exception {
    String id = nextId("midstream");
    // Text reached the client from the big model: the small one would not continue it. With no other worker of the
    // big model, the stream ends with an error event, not with another model's words.
    plane.script(id, new Script(r -> List.of(StreamChunk.delta(0, "Half", 1),
        StreamChunk.failure(1, new GenerateError(GenerateError.Code.ENGINE_FAILED, "backend reset", true, null))),
        false), answer("never"));
    HttpResponse<String> response = post(path("chat"), id, body("chat", "chat", "hello", true));
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).contains("Half").contains("\"error\"").doesNotContain("[DONE]");
    assertThat(plane.offersOf(id)).extracting(o -> o.request().model()).containsExactly(BIG);
  }

  @Test
  void aModelWithNoWorkerIsPassedOver() throws Exception {
    for (String dialect : List.of("chat", "embeddings")) {
      String id = nextId("ghost-" + dialect);
      plane.script(id, answer("from small"));
      HttpResponse<String> response = post(path(dialect), id, body(dialect, "ghost-first", "hello", false));
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      assertThat(plane.onlyOffer(id).request().model()).isEqualTo(SMALL);
      assertThat(new JsonObject(response.body()).getString("model")).isEqualTo(SMALL);
    }
  }

  @Test
  void anAliasNoneOfWhoseModelsIsServedGets503NamingEachAndWhy() throws Exception {
    String id = nextId("all-ghosts");
    HttpResponse<String> response = post(path("chat"), id, body("chat", "all-ghosts", "hello", false));
    assertThat(response.statusCode()).isEqualTo(503);
    JsonObject error = new JsonObject(response.body()).getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo("model_unavailable");
    assertThat(error.getString("param")).isEqualTo("model");
    assertThat(error.getString("message")).contains("alias 'all-ghosts' (nobody-1, nobody-2, tried in that order)")
        .contains("nobody-1: no worker serves it").contains("nobody-2: no worker serves it")
        .contains("Start a worker for one of them");
    assertThat(response.headers().firstValue("retry-after")).isPresent();
    assertThat(plane.offersOf(id)).isEmpty();

    HttpResponse<String> messages = post(path("messages"), nextId("all-ghosts-messages"),
        body("messages", "all-ghosts", "hello", false));
    assertThat(messages.statusCode()).isEqualTo(503);
    assertThat(new JsonObject(messages.body()).getString("type")).isEqualTo("error");
    assertThat(new JsonObject(messages.body()).getJsonObject("error").getString("message")).contains("nobody-2");
  }

  @Test
  void aPromptEstimatedOverTheFirstModelsContextGoesToTheNext() throws Exception {
    String longText = "word ".repeat(800);
    for (String dialect : List.of("chat", "responses", "messages")) {
      String id = nextId("long-" + dialect);
      plane.script(id, answer("fits"));
      HttpResponse<String> response = post(path(dialect), id, body(dialect, "chat", longText, false));
      assertThat(response.statusCode()).as(dialect + ": " + response.body()).isEqualTo(200);
      assertThat(plane.onlyOffer(id).request().model()).as(dialect).isEqualTo(SMALL);
      assertThat(response.headers().firstValue(GenerationExchange.MODEL_HEADER)).contains(SMALL);
    }
    // max_tokens counts too: a short prompt that asks for more than the big model's context holds.
    String id = nextId("long-answer");
    plane.script(id, answer("fits"));
    JsonObject asksMuch = body("chat", "chat", "hello", false).put("max_tokens", BIG_CONTEXT + 1);
    assertThat(post(path("chat"), id, asksMuch).statusCode()).isEqualTo(200);
    assertThat(plane.onlyOffer(id).request().model()).isEqualTo(SMALL);
    // Asked for by its own name, the big model still gets the long prompt: only an alias falls back.
    String direct = nextId("long-direct");
    plane.script(direct, answer("tried"));
    assertThat(post(path("chat"), direct, body("chat", BIG, longText, false)).statusCode()).isEqualTo(200);
    assertThat(plane.onlyOffer(direct).request().model()).isEqualTo(BIG);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // API keys and the model list
  // ---------------------------------------------------------------------------------------------------------------

  @Test
  void aKeyListingTheAliasReachesAllItsModelsOneListingSomeOfThemOnlyThose() throws Exception {
    String viaAlias = nextId("key-alias");
    plane.script(viaAlias, failsBeforeFirstToken(GenerateError.Code.ENGINE_FAILED), answer("small"));
    HttpResponse<String> response = post(path("chat"), viaAlias, body("chat", "chat", "hello", false),
        "sk-alias-only-1");
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(plane.offersOf(viaAlias)).extracting(o -> o.request().model()).containsExactly(BIG, SMALL);

    String viaModel = nextId("key-small");
    plane.script(viaModel, answer("small"));
    response = post(path("chat"), viaModel, body("chat", "chat", "hello", false), "sk-small-only-1");
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    // The big model is not this key's: the alias goes straight to the model it may use.
    assertThat(plane.onlyOffer(viaModel).request().model()).isEqualTo(SMALL);

    String refused = nextId("key-none");
    response = post(path("chat"), refused, body("chat", "chat", "hello", false), "sk-other-only-1");
    assertThat(response.statusCode()).isEqualTo(403);
    String message = new JsonObject(response.body()).getJsonObject("error").getString("message");
    assertThat(message).contains("may not use the alias 'chat' nor any model it stands for")
        .doesNotContain(BIG).doesNotContain(SMALL);
    assertThat(plane.offersOf(refused)).isEmpty();

    HttpResponse<String> counted = post("/v1/messages/count_tokens", nextId("count"),
        new JsonObject().put("model", "chat").put("messages", new JsonArray().add(user("hello"))), "sk-small-only-1");
    assertThat(counted.statusCode()).as(counted.body()).isEqualTo(200);
  }

  @Test
  void theModelListShowsAliasesWithTheirModelsAsTheKeyMaySeeThem() throws Exception {
    JsonArray open = new JsonObject(get("/v1/models", OPEN_KEY).body()).getJsonArray("data");
    assertThat(ids(open)).containsExactly(BIG, SMALL, "chat", "ghost-first", "all-ghosts");
    assertThat(entry(open, "chat").getJsonArray("alias_of")).containsExactly(BIG, SMALL);
    assertThat(entry(open, BIG).containsKey("alias_of")).isFalse();

    JsonArray small = new JsonObject(get("/v1/models", "sk-small-only-1").body()).getJsonArray("data");
    assertThat(ids(small)).containsExactly(SMALL, "chat", "ghost-first");
    assertThat(entry(small, "chat").getJsonArray("alias_of")).containsExactly(SMALL);

    JsonArray aliasOnly = new JsonObject(get("/v1/models", "sk-alias-only-1").body()).getJsonArray("data");
    assertThat(ids(aliasOnly)).containsExactly("chat");
    assertThat(entry(aliasOnly, "chat").getJsonArray("alias_of")).containsExactly(BIG, SMALL);

    JsonArray other = new JsonObject(get("/v1/models", "sk-other-only-1").body()).getJsonArray("data");
    assertThat(ids(other)).isEmpty();
  }

  @Test
  void theClusterViewShowsEachAliasAndWhereItWouldGoNow() {
    JsonObject view = gateway.onContext(() -> gateway.cluster.clusterView());
    JsonArray aliases = view.getJsonArray("aliases");
    JsonObject chat = aliases.getJsonObject(0);
    assertThat(chat.getString("alias")).isEqualTo("chat");
    assertThat(chat.getString("servesNow")).isEqualTo(BIG);
    assertThat(chat.getJsonArray("models").getJsonObject(0).getInteger("routable")).isEqualTo(1);
    assertThat(chat.getBoolean("shadowsServedModel")).isFalse();
    assertThat(aliases.getJsonObject(1).getString("servesNow")).isEqualTo(SMALL);
    assertThat(aliases.getJsonObject(2).getString("servesNow")).isNull();
    assertThat(view.getJsonObject("gateway").getBoolean("aliasContextFallback")).isTrue();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Scripts, bodies, answers
  // ---------------------------------------------------------------------------------------------------------------

  private static Script answer(String text) {
    return new Script(r -> r.kind() == RequestKind.EMBEDDING
        ? List.of(StreamChunk.last(0, "", 0, "stop", new Usage(2, 0), new JsonObject().put("result",
            new JsonObject().put("data", new JsonArray().add(new JsonObject().put("object", "embedding")
                .put("index", 0).put("embedding", new JsonArray().add(0.5)))))))
        : List.of(StreamChunk.delta(0, text, 1), StreamChunk.last(1, "", 0, "stop", new Usage(5, 1))), false);
  }

  private static Script failsBeforeFirstToken(GenerateError.Code code) {
    return new Script(r -> List.of(StreamChunk.failure(0, new GenerateError(code, "backend went away", true, null))),
        false);
  }

  /** An attempt the worker refuses outright, when offered. */
  private static Script refusedWith(GenerateError.Code code) {
    return Script.refused(new GenerateError(code,
        code == GenerateError.Code.WORKER_BUSY ? "all 4 slots busy" : "bad request for this model",
        code != GenerateError.Code.INVALID_REQUEST, null));
  }

  private static final List<String> DIALECTS = List.of("chat", "completions", "responses", "messages", "embeddings");

  private static List<Boolean> streamsOf(String dialect) {
    return dialect.equals("embeddings") ? List.of(false) : List.of(true, false);
  }

  private static String path(String dialect) {
    return switch (dialect) {
      case "chat" -> "/v1/chat/completions";
      case "completions" -> "/v1/completions";
      case "responses" -> "/v1/responses";
      case "messages" -> "/v1/messages";
      default -> "/v1/embeddings";
    };
  }

  private static JsonObject body(String dialect, String model, String text, boolean stream) {
    return switch (dialect) {
      case "chat" -> new JsonObject().put("model", model).put("stream", stream)
          .put("messages", new JsonArray().add(user(text)));
      case "completions" -> new JsonObject().put("model", model).put("stream", stream).put("prompt", text);
      case "responses" -> new JsonObject().put("model", model).put("stream", stream).put("input", text);
      case "messages" -> new JsonObject().put("model", model).put("max_tokens", 64).put("stream", stream)
          .put("messages", new JsonArray().add(user(text)));
      default -> new JsonObject().put("model", model).put("input", text);
    };
  }

  private static JsonObject user(String text) {
    return new JsonObject().put("role", "user").put("content", text);
  }

  /** Every model name the answer gives: each chunk's or event's, or the whole answer's. */
  private static List<String> modelsNamed(String dialect, boolean stream, String body) {
    List<String> models = new ArrayList<>();
    if (!stream) {
      JsonObject answer = new JsonObject(body);
      models.add(answer.getString("model"));
      return models;
    }
    for (String line : body.split("\n")) {
      if (!line.startsWith("data: ") || line.equals("data: [DONE]")) {
        continue;
      }
      JsonObject event = new JsonObject(line.substring(6));
      switch (dialect) {
        case "responses" -> {
          if (event.getJsonObject("response") != null) {
            models.add(event.getJsonObject("response").getString("model"));
          }
        }
        case "messages" -> {
          if (event.getJsonObject("message") != null) {
            models.add(event.getJsonObject("message").getString("model"));
          }
        }
        default -> models.add(event.getString("model"));
      }
    }
    return models;
  }

  private static List<String> ids(JsonArray data) {
    return data.stream().map(JsonObject.class::cast).map(m -> m.getString("id")).toList();
  }

  private static JsonObject entry(JsonArray data, String id) {
    return data.stream().map(JsonObject.class::cast).filter(m -> id.equals(m.getString("id"))).findFirst()
        .orElseThrow();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // HTTP
  // ---------------------------------------------------------------------------------------------------------------

  private static String nextId(String what) {
    return what + "-" + IDS.incrementAndGet();
  }

  private static HttpResponse<String> post(String path, String requestId, JsonObject body) throws Exception {
    return post(path, requestId, body, OPEN_KEY);
  }

  private static HttpResponse<String> post(String path, String requestId, JsonObject body, String key)
      throws Exception {
    return post(port, path, requestId, body, key);
  }

  private static HttpResponse<String> post(int toPort, String path, String requestId, JsonObject body, String key)
      throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + toPort + path))
        .POST(HttpRequest.BodyPublishers.ofString(body.encode()))
        .header("content-type", "application/json").header("x-request-id", requestId)
        .header("authorization", "Bearer " + key).header("x-api-key", key)
        .header("anthropic-version", "2023-06-01").timeout(Duration.ofSeconds(20)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> get(String path, String key) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET()
        .header("authorization", "Bearer " + key).timeout(Duration.ofSeconds(20)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
