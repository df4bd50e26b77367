package io.switchboard.worker.llamacpp;

import io.switchboard.protocol.DiscoveryTrust;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.ResumeState;
import io.switchboard.protocol.SamplingParams;
import io.switchboard.protocol.TraceContext;
import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.FreePorts;
import io.switchboard.worker.engine.Generation;
import io.switchboard.worker.engine.OnContext;
import io.switchboard.worker.engine.RecordingSink;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The llamacpp engine attached to a real llama-server serving the tiny model. */
class LlamaCppEngineTest {

  private static final List<Process> processes = new ArrayList<>();
  private static Vertx vertx;
  private static Context context;
  private static LlamaCppEngine engine;

  @BeforeAll
  static void attach() throws Exception {
    int port = LlamaServerTestSupport.start(processes, "-np", "2", "-c", "1024");
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
    engine = OnContext.call(context, () -> new LlamaCppEngine(vertx,
        new LlamaCppOptions().setUrl("http://127.0.0.1:" + port), "llama-1", 2,
        DiscoveryTrust.unclustered()));
    OnContext.call(context, engine::start).await(30, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    if (engine != null) {
      OnContext.call(context, engine::stop).await(10, TimeUnit.SECONDS);
    }
    vertx.close().await(10, TimeUnit.SECONDS);
    for (Process process : processes) {
      process.destroyForcibly().waitFor();
    }
  }

  private static GenerateRequest chat(int maxTokens, ResumeState resume) {
    JsonObject body = new JsonObject().put("model", "tiny").put("max_tokens", maxTokens).put("temperature", 0)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hello")));
    return request(RequestKind.CHAT, body, maxTokens, resume);
  }

  private static GenerateRequest request(RequestKind kind, JsonObject body, int maxTokens, ResumeState resume) {
    return new GenerateRequest(UUID.randomUUID().toString(), "req-" + UUID.randomUUID(), "tiny", kind, body, "",
        new SamplingParams(maxTokens, 0.0, 1.0, List.of(), null), 0, TraceContext.NONE, resume, null, "", 0);
  }

  private static RecordingSink run(GenerateRequest request, RecordingSink sink) {
    OnContext.call(context, () -> engine.generate(request, sink));
    return sink.awaitDone();
  }

  @Test
  void aChatStreamsRealTokensAndEndsWithUsage() {
    RecordingSink sink = run(chat(8, ResumeState.EMPTY), new RecordingSink());

    assertThat(sink.error()).isNull();
    assertThat(sink.ends()).isEqualTo(1);
    assertThat(sink.finishReason()).isEqualTo("length");
    assertThat(sink.usage().completionTokens()).isEqualTo(8);
    assertThat(sink.usage().promptTokens()).isPositive();
    assertThat(sink.writeCount()).isBetween(1, 8);
  }

  @Test
  void aCompletionWorksToo() {
    JsonObject body = new JsonObject().put("model", "tiny").put("prompt", "Once upon").put("max_tokens", 5)
        .put("temperature", 0);
    RecordingSink sink = run(request(RequestKind.COMPLETION, body, 5, ResumeState.EMPTY), new RecordingSink());

    assertThat(sink.error()).isNull();
    assertThat(sink.usage().completionTokens()).isEqualTo(5);
  }

  @Test
  void aPartialAnswerIsContinuedAndItsTokensCounted() {
    RecordingSink sink = run(chat(8, new ResumeState("Hello there", 3)), new RecordingSink());

    assertThat(sink.error()).isNull();
    assertThat(sink.usage().completionTokens()).as("3 before + 5 continued").isEqualTo(8);
  }

  @Test
  void aFullSinkHoldsTheStreamBackUntilReleased() throws Exception {
    RecordingSink sink = new RecordingSink(2);
    OnContext.call(context, () -> engine.generate(chat(60, ResumeState.EMPTY), sink));
    Eventually.within(ofSeconds(10), "the sink is full", () -> sink.writeCount() >= 2);
    // Real time for the real llama-server to run on: the tiny model makes ~1,000 tokens/s, so without
    // backpressure all 60 would be written by now. TCP buffers may hold a few already-sent events, so allow some
    // slack past the two.
    Thread.sleep(700);
    assertThat(sink.isDone()).isFalse();
    assertThat(sink.writeCount()).isLessThan(30);

    sink.release();
    sink.awaitDone();
    assertThat(sink.usage().completionTokens()).isEqualTo(60);
  }

  @Test
  void aCancelledGenerationWritesNothingMore() throws Exception {
    RecordingSink sink = new RecordingSink(1);
    Generation generation = OnContext.call(context, () -> engine.generate(chat(500, ResumeState.EMPTY), sink));
    Eventually.within(ofSeconds(10), "the first token is written", () -> sink.writeCount() >= 1);
    OnContext.run(context, generation::cancel);
    sink.release();
    // Real time in which the real llama-server would go on writing if the cancel had not stopped the stream.
    Thread.sleep(500);

    assertThat(sink.isDone()).isFalse();
    assertThat(sink.ends() + sink.fails()).isZero();
  }

  @Test
  void aPromptTooLongForTheContextIsAnInvalidRequestNamingTheBackend() {
    String huge = "word ".repeat(3000);
    JsonObject body = new JsonObject().put("model", "tiny").put("max_tokens", 4)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", huge)));
    RecordingSink sink = run(request(RequestKind.CHAT, body, 4, ResumeState.EMPTY), new RecordingSink());

    assertThat(sink.error()).isNotNull();
    assertThat(sink.error().code()).isEqualTo(GenerateError.Code.INVALID_REQUEST);
    assertThat(sink.error().message()).contains("llama-server at 127.0.0.1:").contains("HTTP 400");
  }

  @Test
  void attachingToNothingFailsAtStartSayingWhere() throws Exception {
    int port = FreePorts.any();
    LlamaCppEngine nowhere = OnContext.call(context, () -> new LlamaCppEngine(vertx,
        new LlamaCppOptions().setUrl("http://127.0.0.1:" + port).setStartupTimeoutMs(1000), "llama-2", 1,
        DiscoveryTrust.unclustered()));
    assertThatThrownBy(() -> OnContext.call(context, nowhere::start).await(10, TimeUnit.SECONDS))
        .hasMessageContaining("llama-server at 127.0.0.1:" + port).hasMessageContaining("did not become healthy");
    OnContext.call(context, nowhere::stop).await(10, TimeUnit.SECONDS);
  }

  @Test
  void itReportsLlamaServersOwnSlotsAndLoad() throws Exception {
    JsonObject load = Eventually.read(ofSeconds(10), "llama-server's slots are read",
        () -> OnContext.call(context, () -> engine.status()).getJsonObject("llamaServer").getJsonObject("load"),
        reading -> reading.containsKey("slots"));
    assertThat(load.getInteger("slots")).isEqualTo(2);
    assertThat(load.getInteger("slotsBusy")).isBetween(0, 2);
    // llama-server runs without --metrics here: the reading says so instead of showing stale numbers.
    assertThat(load.getString("metricsError")).contains("/metrics");
  }

  @Test
  void optionsRefuseAMissingOrBadUrl() {
    assertThatThrownBy(() -> new LlamaCppOptions().validate("workers[0].llamacpp"))
        .hasMessageContaining("workers[0].llamacpp needs either url").hasMessageContaining("--model");
    assertThatThrownBy(() -> new LlamaCppOptions().setServerBin("/bin/llama-server").validate("workers[0].llamacpp"))
        .hasMessageContaining("modelPath");
    assertThatThrownBy(() -> new LlamaCppOptions().setUrl("ftp://x").validate("workers[0].llamacpp"))
        .hasMessageContaining("http://");
  }
}
