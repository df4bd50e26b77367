package io.switchboard.worker.openai;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.ResumeState;
import io.switchboard.protocol.SamplingParams;
import io.switchboard.protocol.TraceContext;
import io.switchboard.testsupport.Eventually;
import io.switchboard.worker.engine.Generation;
import io.switchboard.worker.engine.OnContext;
import io.switchboard.worker.engine.RecordingSink;
import io.switchboard.worker.metrics.BackendLoadSignals;
import io.switchboard.worker.metrics.PrometheusText;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The openai engine against a fixture server that serves real captured vLLM and SGLang {@code /v1/models} and
 * {@code /metrics} output and answers generations as each test scripts: model discovery and aliases, kind
 * recognition, load from the backend's metrics, health, error mapping, pass-through, cancel, resumption.
 */
class OpenAiEngineTest {

  private Vertx vertx;
  private Context context;
  private final List<OpenAiEngine> engines = new ArrayList<>();
  private final List<FixtureBackend> backends = new ArrayList<>();

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (OpenAiEngine engine : engines) {
      OnContext.call(context, engine::stop).await(10, TimeUnit.SECONDS);
    }
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private FixtureBackend backend(String sample) throws Exception {
    FixtureBackend backend = new FixtureBackend(vertx, sample).start(0);
    backends.add(backend);
    return backend;
  }

  private OpenAiEngine engine(OpenAiOptions options) throws Exception {
    OpenAiEngine engine = OnContext.call(context, () -> new OpenAiEngine(vertx, options, "openai-1", 4));
    engines.add(engine);
    OnContext.call(context, engine::start).await(10, TimeUnit.SECONDS);
    return engine;
  }

  private static OpenAiOptions fastPolling(FixtureBackend backend) {
    return new OpenAiOptions().setUrl(backend.url()).setHealthIntervalMs(100).setModelsRefreshMs(1000);
  }

  private JsonObject status(OpenAiEngine engine) {
    return OnContext.call(context, engine::status);
  }

  private static GenerateRequest chat(String model, JsonObject extraFields, ResumeState resume) {
    JsonObject body = new JsonObject().put("model", model).put("max_tokens", 16)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hello")))
        .mergeIn(extraFields);
    return request(RequestKind.CHAT, model, body, resume);
  }

  private static GenerateRequest request(RequestKind kind, String model, JsonObject body, ResumeState resume) {
    return new GenerateRequest(UUID.randomUUID().toString(), "req-" + UUID.randomUUID(), model, kind, body, "",
        new SamplingParams(16, 1.0, 1.0, List.of(), null), 0, TraceContext.NONE, resume, null, "", 0);
  }

  private RecordingSink run(OpenAiEngine engine, GenerateRequest request) {
    RecordingSink sink = new RecordingSink();
    OnContext.call(context, () -> engine.generate(request, sink));
    return sink.awaitDone();
  }

  private static BackendLoadSignals expectedSignals(String sample) throws Exception {
    return BackendLoadSignals.from(PrometheusText.parse(FixtureBackend.resource("backends/" + sample + "/metrics.txt")))
        .orElseThrow();
  }

  @Test
  void aVllmServerIsRecognisedAndItsModelsAndLoadAreReported() throws Exception {
    FixtureBackend vllm = backend("vllm");
    OpenAiEngine engine = engine(fastPolling(vllm));
    JsonObject listed = new JsonObject(FixtureBackend.resource("backends/vllm/models.json"));
    String id = listed.getJsonArray("data").getJsonObject(0).getString("id");

    assertThat(OnContext.call(context, engine::models)).containsExactly(id);
    assertThat(OnContext.call(context, engine::unavailableReason)).isNull();
    JsonObject status = status(engine);
    assertThat(status.getString("kind")).isEqualTo("vllm");
    assertThat(status.getString("kindFrom")).contains("owned_by");
    assertThat(status.getString("backend")).isEqualTo("vLLM at 127.0.0.1:" + vllm.port());
    assertThat(status.getJsonObject("health").getBoolean("healthy")).isTrue();
    assertThat(status.getJsonObject("health").getString("path")).isEqualTo("/health");
    JsonObject model = status.getJsonArray("models").getJsonObject(0);
    assertThat(model.getString("id")).isEqualTo(id);
    assertThat(model.getInteger("maxModelLen")).isEqualTo(listed.getJsonArray("data").getJsonObject(0)
        .getInteger("max_model_len"));
    BackendLoadSignals expected = expectedSignals("vllm");
    JsonObject load = status.getJsonObject("backendLoad");
    assertThat(load.getString("source")).isEqualTo("vllm");
    assertThat(load.getDouble("running")).isEqualTo(expected.running());
    assertThat(load.getDouble("waiting")).isEqualTo(expected.waiting());
    assertThat(load.getDouble("kvCacheUsage")).isEqualTo(expected.kvCacheUsage());
  }

  @Test
  void anSglangServerIsRecognisedAndItsLoadReported() throws Exception {
    FixtureBackend sglang = backend("sglang");
    OpenAiEngine engine = engine(fastPolling(sglang));
    String id = new JsonObject(FixtureBackend.resource("backends/sglang/models.json")).getJsonArray("data")
        .getJsonObject(0).getString("id");

    assertThat(OnContext.call(context, engine::models)).containsExactly(id);
    JsonObject status = status(engine);
    assertThat(status.getString("kind")).isEqualTo("sglang");
    BackendLoadSignals expected = expectedSignals("sglang");
    JsonObject load = status.getJsonObject("backendLoad");
    assertThat(load.getString("source")).isEqualTo("sglang");
    assertThat(load.getDouble("running")).isEqualTo(expected.running());
    assertThat(load.getDouble("waiting")).isEqualTo(expected.waiting());
    assertThat(load.getDouble("kvCacheUsage")).isEqualTo(expected.kvCacheUsage());
  }

  @Test
  void aServerWithoutMetricsFallsBackToInFlightCountsAndSaysSo() throws Exception {
    FixtureBackend plain = backend("vllm");
    plain.metrics = null;
    plain.models = "{\"object\":\"list\",\"data\":[{\"id\":\"some-model\",\"object\":\"model\",\"owned_by\":\"me\"}]}";
    OpenAiEngine engine = engine(fastPolling(plain));

    JsonObject status = status(engine);
    assertThat(status.getString("kind")).isEqualTo("openai");
    assertThat(status.getJsonObject("health").getString("path")).isEqualTo("/v1/models");
    assertThat(status.containsKey("backendLoad")).isFalse();
    assertThat(status.getString("backendLoadNote")).contains("HTTP 404").contains("in-flight");
  }

  @Test
  void modelsAreNarrowedAndRenamedAndTheBackendGetsItsOwnName() throws Exception {
    FixtureBackend backend = backend("vllm");
    backend.models = "{\"object\":\"list\",\"data\":[{\"id\":\"org/big-model\",\"owned_by\":\"vllm\"},"
        + "{\"id\":\"org/small-model\",\"owned_by\":\"vllm\"},{\"id\":\"org/embedder\",\"owned_by\":\"vllm\"}]}";
    OpenAiEngine engine = engine(fastPolling(backend).setModels(List.of("org/big-model", "org/embedder"))
        .setAliases(List.of("org/big-model=big")).setEmbeddingModels(List.of("org/embedder")));

    assertThat(OnContext.call(context, engine::models)).containsExactly("big", "org/embedder");
    assertThat(OnContext.call(context, engine::embeddingModels)).containsExactly("org/embedder");
    assertThat(status(engine).getJsonArray("modelsNotServed")).containsExactly("org/small-model");

    RecordingSink sink = run(engine, chat("big", new JsonObject(), ResumeState.EMPTY));
    assertThat(sink.error()).isNull();
    assertThat(backend.bodies.get(0).getString("model")).isEqualTo("org/big-model");
  }

  @Test
  void theClientsBodyGoesThroughAndToolCallsAndLogprobsComeBackBesideTheText() throws Exception {
    FixtureBackend backend = backend("vllm");
    JsonObject toolDelta = new JsonObject().put("tool_calls", new JsonArray().add(new JsonObject().put("index", 0)
        .put("id", "call_7").put("type", "function")
        .put("function", new JsonObject().put("name", "get_weather").put("arguments", "{\"city\":"))));
    JsonObject logprobs = new JsonObject().put("content", new JsonArray().add(new JsonObject().put("token", "x")
        .put("logprob", -0.25)));
    backend.answer = (body, request) -> FixtureBackend.events(request, List.of(
        FixtureBackend.delta(new JsonObject().put("content", "Let me check."), null).put("choices", new JsonArray()
            .add(new JsonObject().put("index", 0).put("delta", new JsonObject().put("content", "Let me check."))
                .put("logprobs", logprobs))),
        FixtureBackend.delta(toolDelta, null),
        FixtureBackend.delta(new JsonObject().put("tool_calls", new JsonArray().add(new JsonObject().put("index", 0)
            .put("function", new JsonObject().put("arguments", "\"Paris\"}")))), null),
        FixtureBackend.delta(new JsonObject(), "tool_calls"),
        new JsonObject().put("choices", new JsonArray()).put("usage", new JsonObject().put("prompt_tokens", 30)
            .put("completion_tokens", 12).put("prompt_tokens_details", new JsonObject().put("cached_tokens", 16)))),
        true);
    OpenAiEngine engine = engine(fastPolling(backend));
    String model = OnContext.call(context, engine::models).get(0);
    JsonObject fields = new JsonObject()
        .put("tools", new JsonArray().add(new JsonObject().put("type", "function")
            .put("function", new JsonObject().put("name", "get_weather"))))
        .put("tool_choice", "auto")
        .put("response_format", new JsonObject().put("type", "json_object"))
        .put("logprobs", true).put("top_logprobs", 2)
        .put("guided_regex", "[a-z]+").put("some_future_field", new JsonObject().put("x", 1));

    RecordingSink sink = run(engine, chat(model, fields, ResumeState.EMPTY));

    JsonObject sent = backend.bodies.get(0);
    for (String field : fields.fieldNames()) {
      assertThat(sent.getValue(field)).as(field).isEqualTo(fields.getValue(field));
    }
    assertThat(sent.getBoolean("stream")).isTrue();
    assertThat(sent.getJsonObject("stream_options").getBoolean("include_usage")).isTrue();
    assertThat(sink.error()).isNull();
    assertThat(sink.finishReason()).isEqualTo("tool_calls");
    assertThat(sink.usage().promptTokens()).isEqualTo(30);
    assertThat(sink.usage().completionTokens()).isEqualTo(12);
    assertThat(sink.usage().cachedTokens()).as("the backend's prefix cache hits pass through").isEqualTo(16);
    List<RecordingSink.Write> writes = sink.writes();
    assertThat(writes.get(0).text()).isEqualTo("Let me check.");
    assertThat(writes.get(0).extra().getJsonObject("logprobs")).isEqualTo(logprobs);
    assertThat(writes.get(1).text()).isEmpty();
    assertThat(writes.get(1).extra().getJsonObject("delta")).isEqualTo(toolDelta);
    assertThat(writes.get(2).extra().getJsonObject("delta").getJsonArray("tool_calls").getJsonObject(0)
        .getJsonObject("function").getString("arguments")).isEqualTo("\"Paris\"}");
  }

  @Test
  void backendErrorsAreMappedNamingTheBackendAndKeepingItsWords() throws Exception {
    FixtureBackend backend = backend("vllm");
    OpenAiEngine engine = engine(fastPolling(backend));
    String model = OnContext.call(context, engine::models).get(0);
    String name = "vLLM at 127.0.0.1:" + backend.port();

    backend.answer = FixtureBackend.status(500, "{\"error\":{\"message\":\"CUDA error: an illegal memory access\"}}");
    GenerateError crashed = run(engine, chat(model, new JsonObject(), ResumeState.EMPTY)).error();
    assertThat(crashed.code()).isEqualTo(GenerateError.Code.ENGINE_FAILED);
    assertThat(crashed.retryable()).isTrue();
    assertThat(crashed.message()).isEqualTo(name + " answered HTTP 500: CUDA error: an illegal memory access");
    assertThat(crashed.workerId()).isEqualTo("openai-1");

    backend.answer = FixtureBackend.status(429, "{\"object\":\"error\",\"message\":\"too many requests\"}");
    GenerateError busy = run(engine, chat(model, new JsonObject(), ResumeState.EMPTY)).error();
    assertThat(busy.code()).isEqualTo(GenerateError.Code.WORKER_BUSY);
    assertThat(busy.retryable()).isTrue();
    assertThat(busy.message()).contains(name + " answered HTTP 429");

    backend.answer = FixtureBackend.status(400, "{\"object\":\"error\",\"message\":\"This model's maximum context "
        + "length is 4096 tokens\",\"type\":\"BadRequestError\",\"code\":400}");
    GenerateError invalid = run(engine, chat(model, new JsonObject(), ResumeState.EMPTY)).error();
    assertThat(invalid.code()).isEqualTo(GenerateError.Code.INVALID_REQUEST);
    assertThat(invalid.retryable()).isFalse();
    assertThat(invalid.message()).contains("maximum context length is 4096");

    backend.answer = FixtureBackend.status(401, "{\"error\":\"Unauthorized\"}");
    GenerateError denied = run(engine, chat(model, new JsonObject(), ResumeState.EMPTY)).error();
    assertThat(denied.message()).contains("HTTP 401").contains("openai.apiKey");

    backend.answer = (body, request) -> request.response().setChunked(true)
        .putHeader("content-type", "text/event-stream").end("data: {\"error\":{\"message\":\"out of memory\"}}\n\n");
    assertThat(run(engine, chat(model, new JsonObject(), ResumeState.EMPTY)).error().message())
        .contains("reported an error mid-stream: out of memory");

    // A parse error of the backend's output names the backend and shows what it sent.
    backend.answer = (body, request) -> request.response().setChunked(true)
        .putHeader("content-type", "text/event-stream").end("data: {\"choices\":[{\"delta\":\n\n");
    GenerateError garbled = run(engine, chat(model, new JsonObject(), ResumeState.EMPTY)).error();
    assertThat(garbled.code()).isEqualTo(GenerateError.Code.ENGINE_FAILED);
    assertThat(garbled.message()).contains("at 127.0.0.1:").contains("sent an event that is not JSON: {\"choices\"");
  }

  @Test
  void theApiKeyIsSentOnEveryRequest() throws Exception {
    FixtureBackend backend = backend("vllm");
    OpenAiEngine engine = engine(fastPolling(backend).setApiKey("sk-test-123"));
    run(engine, chat(OnContext.call(context, engine::models).get(0), new JsonObject(), ResumeState.EMPTY));

    assertThat(backend.paths).contains("GET /v1/models", "GET /health", "GET /metrics", "POST /v1/chat/completions");
    assertThat(backend.authorizations).isNotEmpty().allMatch("Bearer sk-test-123"::equals);
  }

  @Test
  void aBackendThatAnswers404OnTheNativePathsServesNoDialectNatively() throws Exception {
    FixtureBackend backend = backend("vllm");
    OpenAiEngine engine = engine(fastPolling(backend));
    Eventually.within(ofSeconds(5), "both native paths are probed", () -> backend.paths.contains("POST /v1/messages"));

    assertThat(backend.paths).contains("POST /v1/responses", "POST /v1/messages");
    assertThat(OnContext.call(context, engine::nativeDialects)).isEmpty();
    OpenAiEngine configured = engine(fastPolling(backend).setNativeDialects(List.of("messages")));
    assertThat(OnContext.call(context, configured::nativeDialects)).as("configured, not probed")
        .containsExactly("messages");
  }

  @Test
  void theRequestIdAndTraceContextReachTheBackend() throws Exception {
    FixtureBackend backend = backend("vllm");
    OpenAiEngine engine = engine(fastPolling(backend));
    String model = OnContext.call(context, engine::models).get(0);
    GenerateRequest plain = chat(model, new JsonObject(), ResumeState.EMPTY);
    String traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    GenerateRequest traced = new GenerateRequest(plain.streamId(), "req-traced-1", plain.model(), plain.kind(),
        plain.body(), plain.prompt(), plain.sampling(), plain.deadlineEpochMs(),
        new TraceContext(traceparent, null), ResumeState.EMPTY, null, "", 0);

    run(engine, traced);

    assertThat(backend.correlation).containsExactly("req-traced-1 " + traceparent);
  }

  @Test
  void aBackendThatGoesDownMakesTheWorkerUnavailableWithTheReasonAndComesBack() throws Exception {
    FixtureBackend backend = backend("vllm");
    OpenAiEngine engine = engine(fastPolling(backend));
    assertThat(OnContext.call(context, engine::unavailableReason)).isNull();

    int port = backend.port();
    backend.stop();
    Eventually.within(ofSeconds(10), "worker unavailable",
        () -> OnContext.call(context, engine::unavailableReason) != null);
    assertThat(OnContext.call(context, engine::unavailableReason))
        .startsWith("vLLM at 127.0.0.1:" + port + " is unhealthy: GET /health failed");

    new FixtureBackend(vertx, "vllm").start(port);
    Eventually.within(ofSeconds(10), "worker available again",
        () -> OnContext.call(context, engine::unavailableReason) == null);
  }

  @Test
  void aBackendStillLoadingIsUnhealthyUntilItsHealthAnswers200() throws Exception {
    FixtureBackend backend = backend("vllm");
    backend.healthStatus = 503;
    OpenAiEngine engine = engine(fastPolling(backend));
    assertThat(OnContext.call(context, engine::unavailableReason)).contains("HTTP 503");

    backend.healthStatus = 200;
    Eventually.within(ofSeconds(10), "worker available",
        () -> OnContext.call(context, engine::unavailableReason) == null);
  }

  @Test
  void eventsThatArriveTogetherGoOnAsOneChunkAndEventsApartEachAsSoonAsItArrives() throws Exception {
    FixtureBackend backend = backend("vllm");
    StringBuilder together = new StringBuilder();
    for (int i = 0; i < 10; i++) {
      together.append("data: ").append(FixtureBackend.delta(new JsonObject().put("content", "t" + i), null).encode())
          .append("\n\n");
    }
    together.append("data: ").append(FixtureBackend.delta(new JsonObject(), "stop").encode()).append("\n\ndata: [DONE]\n\n");
    backend.answer = (body, request) -> request.response().putHeader("content-type", "text/event-stream")
        .end(together.toString());
    OpenAiEngine engine = engine(fastPolling(backend));
    String model = OnContext.call(context, engine::models).get(0);

    RecordingSink burst = run(engine, chat(model, new JsonObject(), ResumeState.EMPTY));
    assertThat(burst.text()).isEqualTo("t0t1t2t3t4t5t6t7t8t9");
    assertThat(burst.tokens()).as("every event's token is counted").isEqualTo(10);
    assertThat(burst.writeCount()).as("ten events read together are not ten chunks").isLessThan(9);

    // Apart: the backend sends the next event only once the worker passed the last one on, so a worker that held
    // text back for a later read would never finish.
    RecordingSink apart = new RecordingSink();
    backend.answer = (body, request) -> {
      var response = request.response().setChunked(true).putHeader("content-type", "text/event-stream");
      sendWhenWritten(response, apart, List.of("a", "b", "c"), 0);
    };
    OnContext.call(context, () -> engine.generate(chat(model, new JsonObject(), ResumeState.EMPTY), apart));
    apart.awaitDone();
    assertThat(apart.writes()).extracting(RecordingSink.Write::text).containsExactly("a", "b", "c");
    assertThat(apart.writes()).extracting(RecordingSink.Write::tokens).containsExactly(1, 1, 1);
    assertThat(apart.finishReason()).isEqualTo("stop");
  }

  private void sendWhenWritten(io.vertx.core.http.HttpServerResponse response, RecordingSink sink, List<String> texts,
                               int next) {
    if (next == texts.size()) {
      response.end("data: " + FixtureBackend.delta(new JsonObject(), "stop").encode() + "\n\ndata: [DONE]\n\n");
      return;
    }
    if (sink.writeCount() < next) {
      vertx.setTimer(5, id -> sendWhenWritten(response, sink, texts, next));
      return;
    }
    response.write("data: " + FixtureBackend.delta(new JsonObject().put("content", texts.get(next)), null).encode()
        + "\n\n");
    vertx.setTimer(5, id -> sendWhenWritten(response, sink, texts, next + 1));
  }

  @Test
  void textReadTogetherWithAnErrorGoesOnBeforeTheFailure() throws Exception {
    FixtureBackend backend = backend("vllm");
    backend.answer = (body, request) -> request.response().putHeader("content-type", "text/event-stream")
        .end("data: " + FixtureBackend.delta(new JsonObject().put("content", "par"), null).encode() + "\n\n"
            + "data: " + FixtureBackend.delta(new JsonObject().put("content", "tial"), null).encode() + "\n\n"
            + "data: {\"error\":{\"message\":\"out of KV cache\"}}\n\n");
    OpenAiEngine engine = engine(fastPolling(backend));

    RecordingSink sink = run(engine, chat(OnContext.call(context, engine::models).get(0), new JsonObject(),
        ResumeState.EMPTY));
    assertThat(sink.writtenText()).as("a resume elsewhere continues after it").isEqualTo("partial");
    assertThat(sink.tokens()).isEqualTo(2);
    assertThat(sink.error().message()).contains("out of KV cache");
  }

  @Test
  void aCancelledGenerationClosesTheBackendsRequest() throws Exception {
    FixtureBackend backend = backend("vllm");
    backend.answer = (body, request) -> FixtureBackend.events(request,
        List.of(FixtureBackend.delta(new JsonObject().put("content", "partial"), null)), false);
    OpenAiEngine engine = engine(fastPolling(backend));
    RecordingSink sink = new RecordingSink();
    String model = OnContext.call(context, engine::models).get(0);
    Generation generation = OnContext.call(context, () -> engine.generate(chat(model, new JsonObject(),
        ResumeState.EMPTY), sink));
    Eventually.within(ofSeconds(10), "first text", () -> sink.writeCount() == 1);

    OnContext.run(context, generation::cancel);

    Eventually.within(ofSeconds(10), "the backend saw its request closed", () -> backend.closedByClient.get() == 1);
    assertThat(sink.ends() + sink.fails()).isZero();
    assertThat(status(engine).getInteger("inFlight")).isZero();
  }

  @Test
  void aBackendThatFallsSilentMidAnswerFailsTheGenerationAfterTheIdleTimeout() throws Exception {
    FixtureBackend backend = backend("vllm");
    backend.answer = (body, request) -> FixtureBackend.events(request,
        List.of(FixtureBackend.delta(new JsonObject().put("content", "partial"), null)), false);
    OpenAiEngine engine = engine(fastPolling(backend).setIdleTimeoutMs(300));

    GenerateError error = run(engine, chat(OnContext.call(context, engine::models).get(0), new JsonObject(),
        ResumeState.EMPTY)).error();
    assertThat(error.code()).isEqualTo(GenerateError.Code.ENGINE_FAILED);
    assertThat(error.message()).contains("sent nothing for 300 ms");
    Eventually.within(ofSeconds(10), "the backend saw its request closed", () -> backend.closedByClient.get() == 1);
  }

  @Test
  void aGenerationHeldBackByItsClientIsNotFailedAsSilent() throws Exception {
    FixtureBackend backend = backend("vllm");
    backend.answer = (body, request) -> {
      var response = request.response().setChunked(true).putHeader("content-type", "text/event-stream");
      response.write("data: " + FixtureBackend.delta(new JsonObject().put("content", "a"), null).encode() + "\n\n");
      vertx.setTimer(20, id -> response.end("data: " + FixtureBackend.delta(new JsonObject().put("content", "b"), null)
          .encode() + "\n\ndata: " + FixtureBackend.delta(new JsonObject(), "stop").encode() + "\n\ndata: [DONE]\n\n"));
    };
    OpenAiEngine engine = engine(fastPolling(backend).setIdleTimeoutMs(300));
    String model = OnContext.call(context, engine::models).get(0);
    // Full after the first write: the gateway grants no more credits, as when its client stops reading.
    RecordingSink sink = new RecordingSink(1);
    OnContext.call(context, () -> engine.generate(chat(model, new JsonObject(), ResumeState.EMPTY), sink));
    Eventually.within(ofSeconds(10), "first text", () -> sink.writeCount() == 1);

    // Real time: three of the engine's idle timeouts pass while the sink holds the stream back.
    Thread.sleep(1000);
    assertThat(sink.fails()).as("held back for three idle timeouts, by its client, not by the backend").isZero();
    OnContext.run(context, sink::release);
    sink.awaitDone();
    assertThat(sink.error()).isNull();
    assertThat(sink.text()).isEqualTo("ab");
  }

  @Test
  void aPartialAnswerIsContinuedTheWayEachKindDoesIt() throws Exception {
    FixtureBackend vllm = backend("vllm");
    OpenAiEngine vllmEngine = engine(fastPolling(vllm));
    run(vllmEngine, chat(OnContext.call(context, vllmEngine::models).get(0), new JsonObject(),
        new ResumeState("The answer is", 3)));
    JsonObject continued = vllm.bodies.get(0);
    JsonObject last = continued.getJsonArray("messages").getJsonObject(1);
    assertThat(last.getString("role")).isEqualTo("assistant");
    assertThat(last.getString("content")).isEqualTo("The answer is");
    assertThat(continued.getBoolean("continue_final_message")).isTrue();
    assertThat(continued.getBoolean("add_generation_prompt")).isFalse();
    assertThat(continued.getInteger("max_tokens")).isEqualTo(13);

    FixtureBackend llama = backend("vllm");
    llama.models = "{\"object\":\"list\",\"data\":[{\"id\":\"tiny.gguf\",\"owned_by\":\"llamacpp\"}]}";
    OpenAiEngine llamaEngine = engine(fastPolling(llama));
    run(llamaEngine, chat("tiny.gguf", new JsonObject(), new ResumeState("The answer is", 3)));
    JsonObject prefilled = llama.bodies.get(0);
    assertThat(prefilled.getJsonArray("messages").getJsonObject(1).getString("content")).isEqualTo("The answer is");
    assertThat(prefilled.containsKey("continue_final_message")).isFalse();

    llama.answer = (body, request) -> FixtureBackend.events(request, List.of(new JsonObject().put("choices",
        new JsonArray().add(new JsonObject().put("index", 0).put("text", " 42").put("finish_reason", "stop")))), true);
    run(llamaEngine, request(RequestKind.COMPLETION, "tiny.gguf", new JsonObject().put("model", "tiny.gguf")
        .put("prompt", "Q: what is it? A:"), new ResumeState(" The answer is", 3)));
    assertThat(llama.bodies.get(1).getString("prompt")).isEqualTo("Q: what is it? A: The answer is");
  }

  @Test
  void embeddingsComeBackWholeUnderTheBackendsAnswer() throws Exception {
    FixtureBackend backend = backend("vllm");
    backend.answer = (body, request) -> request.response().putHeader("content-type", "application/json")
        .end(new JsonObject().put("object", "list").put("model", body.getString("model"))
            .put("data", new JsonArray().add(new JsonObject().put("object", "embedding").put("index", 0)
                .put("embedding", new JsonArray().add(0.5).add(-0.5))))
            .put("usage", new JsonObject().put("prompt_tokens", 4).put("total_tokens", 4)).encode());
    OpenAiEngine engine = engine(fastPolling(backend).setEmbeddingModels(List.of("*")));
    String model = OnContext.call(context, engine::models).get(0);
    assertThat(OnContext.call(context, engine::embeddingModels)).containsExactly(model);

    RecordingSink sink = run(engine, request(RequestKind.EMBEDDING, model, new JsonObject().put("model", model)
        .put("input", "hello").put("encoding_format", "float"), ResumeState.EMPTY));

    assertThat(backend.paths).contains("POST /v1/embeddings");
    assertThat(backend.bodies.get(0).getString("encoding_format")).isEqualTo("float");
    assertThat(sink.error()).isNull();
    assertThat(sink.usage().promptTokens()).isEqualTo(4);
    assertThat(sink.endExtra().getJsonObject("result").getJsonArray("data").getJsonObject(0)
        .getJsonArray("embedding")).containsExactly(0.5, -0.5);
  }

  @Test
  void optionsRefuseWhatCannotWork() {
    assertThatThrownBy(() -> new OpenAiOptions().validate("workers[0].openai"))
        .hasMessageContaining("workers[0].openai.url is required").hasMessageContaining("--backend");
    assertThatThrownBy(() -> new OpenAiOptions().setUrl("ftp://x").validate("workers[0].openai"))
        .hasMessageContaining("http(s)://");
    assertThatThrownBy(() -> new OpenAiOptions().setUrl("http://x:1").setKind("triton").validate("workers[0].openai"))
        .hasMessageContaining("workers[0].openai.kind must be one of").hasMessageContaining("vllm");
    assertThatThrownBy(() -> new OpenAiOptions().setUrl("http://x:1").setAliases(List.of("nope"))
        .validate("workers[0].openai")).hasMessageContaining("BACKEND_MODEL=SERVED_NAME");
    assertThat(new OpenAiOptions().setUrl("http://10.0.0.5:8000/v1/").baseUri().toString())
        .isEqualTo("http://10.0.0.5:8000");
  }

  /** A chat request whose client set no max_tokens, under the gateway's cap {@code cap}. */
  private static GenerateRequest uncapped(String model, JsonObject extraFields, int cap) {
    JsonObject body = new JsonObject().put("model", model)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hello")))
        .mergeIn(extraFields);
    return new GenerateRequest(UUID.randomUUID().toString(), "req-" + UUID.randomUUID(), model, RequestKind.CHAT,
        body, "", new SamplingParams(null, 1.0, 1.0, List.of(), null, cap), 0, TraceContext.NONE, ResumeState.EMPTY,
        null, "", 0);
  }

  /** Ten text deltas and no end: a backend that would go on (vLLM's context is larger than the cap). */
  private static void endless(JsonObject body, io.vertx.core.http.HttpServerRequest request) {
    List<JsonObject> events = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      events.add(FixtureBackend.delta(new JsonObject().put("content", "t" + i + " "), null));
    }
    FixtureBackend.events(request, events, false);
  }

  @Test
  void aVllmAnswerWithoutMaxTokensIsEndedAtTheGatewaysCapWhichVllmIsNotSent() throws Exception {
    FixtureBackend vllm = backend("vllm");
    vllm.answer = OpenAiEngineTest::endless;
    OpenAiEngine engine = engine(fastPolling(vllm));
    String model = OnContext.call(context, engine::models).get(0);

    RecordingSink sink = run(engine, uncapped(model, new JsonObject(), 3));

    assertThat(vllm.bodies.get(0).containsKey("max_tokens")).as("vLLM would refuse a cap past its context").isFalse();
    assertThat(sink.error()).isNull();
    assertThat(sink.finishReason()).isEqualTo("length");
    assertThat(sink.text()).isEqualTo("t0 t1 t2 ");
    assertThat(sink.usage().completionTokens()).isEqualTo(3);
    Eventually.within(ofSeconds(10), "the backend's request is reset", () -> vllm.closedByClient.get() == 1);
  }

  @Test
  void aBackendThatStopsAtTheCapItWasNotSentKeepsItsConnection() throws Exception {
    FixtureBackend vllm = backend("vllm");
    vllm.answer = (body, request) -> {
      StringBuilder stream = new StringBuilder();
      for (int i = 0; i < 3; i++) {
        stream.append("data: ").append(FixtureBackend.delta(new JsonObject().put("content", "t" + i + " "), null)
            .encode()).append("\n\n");
      }
      stream.append("data: ").append(FixtureBackend.delta(new JsonObject(), "length").encode())
          .append("\n\ndata: [DONE]\n\n");
      request.response().putHeader("content-type", "text/event-stream").end(stream.toString());
    };
    OpenAiEngine engine = engine(fastPolling(vllm));
    String model = OnContext.call(context, engine::models).get(0);

    RecordingSink sink = run(engine, uncapped(model, new JsonObject(), 3));

    assertThat(sink.finishReason()).isEqualTo("length");
    assertThat(sink.text()).isEqualTo("t0 t1 t2 ");
    // Real time in which a connection the engine did not give back would be closed.
    Thread.sleep(300);
    assertThat(vllm.generationConnectionsClosed.get()).as("the connection goes back to the pool").isZero();
  }

  @Test
  void anOllamaRequestWithoutMaxTokensCarriesTheCapInMaxTokens() throws Exception {
    FixtureBackend ollama = backend("vllm");
    OpenAiEngine engine = engine(fastPolling(ollama).setKind("ollama").setHealthPath("/health"));
    String model = OnContext.call(context, engine::models).get(0);

    RecordingSink sink = run(engine, uncapped(model, new JsonObject(), 77));

    assertThat(sink.error()).as(String.valueOf(sink.error())).isNull();
    assertThat(ollama.bodies.get(0).getInteger("max_tokens")).isEqualTo(77);
  }

  @Test
  void aFieldTheBackendKindRefusesFailsTheRequestBeforeTheBackendSeesIt() throws Exception {
    FixtureBackend vllm = backend("vllm");
    OpenAiEngine engine = engine(fastPolling(vllm));
    String model = OnContext.call(context, engine::models).get(0);

    RecordingSink sink = run(engine, chat(model, new JsonObject().put("kv_transfer_params",
        new JsonObject().put("remote_host", "10.9.9.9")), ResumeState.EMPTY));

    assertThat(sink.error().code()).isEqualTo(GenerateError.Code.INVALID_REQUEST);
    assertThat(sink.error().param()).isEqualTo("kv_transfer_params");
    assertThat(sink.error().retryable()).isFalse();
    assertThat(vllm.bodies).isEmpty();
    assertThat(status(engine).getInteger("inFlight")).isZero();

    OpenAiEngine allowing = engine(fastPolling(vllm).setPassFields(List.of("kv_transfer_params")));
    assertThat(run(allowing, chat(model, new JsonObject().put("kv_transfer_params", new JsonObject()),
        ResumeState.EMPTY)).error()).isNull();
    assertThat(vllm.bodies).hasSize(1);
  }
}
