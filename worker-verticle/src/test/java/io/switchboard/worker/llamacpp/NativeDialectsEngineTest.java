package io.switchboard.worker.llamacpp;

import io.switchboard.protocol.DiscoveryTrust;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.NativeForm;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.ResumeState;
import io.switchboard.protocol.SamplingParams;
import io.switchboard.protocol.TraceContext;
import io.switchboard.testsupport.Eventually;
import io.switchboard.worker.engine.Engine;
import io.switchboard.worker.engine.OnContext;
import io.switchboard.worker.engine.RecordingSink;
import io.switchboard.worker.openai.OpenAiEngine;
import io.switchboard.worker.openai.OpenAiOptions;
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

/**
 * Native dialects through both engines that can serve them, against a real llama-server on the tiny model: the
 * llamacpp engine (attached) and the openai engine (which probes the backend for them). A Responses or Messages
 * request is passed to llama-server's own /v1/responses or /v1/messages and comes back as chat-shaped chunks with
 * usage and finish reason; a resumed attempt, and a worker that does not serve the dialect, use the chat body.
 */
class NativeDialectsEngineTest {

  private static final List<Process> processes = new ArrayList<>();
  private static Vertx vertx;
  private static Context context;
  private static LlamaCppEngine llamacpp;
  private static OpenAiEngine openai;
  private static OpenAiEngine openaiChatOnly;

  @BeforeAll
  static void start() throws Exception {
    int port = LlamaServerTestSupport.start(processes, "-np", "2", "-c", "1024");
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
    llamacpp = OnContext.call(context, () -> new LlamaCppEngine(vertx,
        new LlamaCppOptions().setUrl("http://127.0.0.1:" + port), "llama-1", 2, DiscoveryTrust.unclustered()));
    OnContext.call(context, llamacpp::start).await(30, TimeUnit.SECONDS);
    openai = OnContext.call(context, () -> new OpenAiEngine(vertx, new OpenAiOptions()
        .setUrl("http://127.0.0.1:" + port).setModels(List.of()), "openai-1", 2));
    OnContext.call(context, openai::start).await(30, TimeUnit.SECONDS);
    openaiChatOnly = OnContext.call(context, () -> new OpenAiEngine(vertx, new OpenAiOptions()
        .setUrl("http://127.0.0.1:" + port).setNativeDialects(List.of()), "openai-2", 2));
    OnContext.call(context, openaiChatOnly::start).await(30, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    for (Engine engine : new Engine[] {llamacpp, openai, openaiChatOnly}) {
      if (engine != null) {
        OnContext.call(context, engine::stop).await(10, TimeUnit.SECONDS);
      }
    }
    vertx.close().await(10, TimeUnit.SECONDS);
    for (Process process : processes) {
      process.destroyForcibly().waitFor();
    }
  }

  private static String model(Engine engine) {
    return engine == llamacpp ? "tiny" : engine.models().get(0);
  }

  /** A request as a gateway sends it for a native dialect: the chat body translated, and the client's own. */
  private static GenerateRequest request(Engine engine, NativeForm form, int maxTokens, ResumeState resume) {
    JsonObject chat = new JsonObject().put("model", model(engine)).put("max_tokens", maxTokens).put("temperature", 0)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hello")));
    return new GenerateRequest(UUID.randomUUID().toString(), "req-" + UUID.randomUUID(), model(engine),
        RequestKind.CHAT, chat, "user: hello\n", new SamplingParams(maxTokens, 0.0, 1.0, List.of(), null), 0,
        TraceContext.NONE, resume, null, "", 0, form);
  }

  private static NativeForm responses(int maxTokens) {
    return new NativeForm(NativeForm.RESPONSES, new JsonObject().put("model", "client-name").put("input", "hello")
        .put("max_output_tokens", maxTokens).put("temperature", 0));
  }

  private static NativeForm messages(int maxTokens) {
    return new NativeForm(NativeForm.MESSAGES, new JsonObject().put("model", "client-name")
        .put("max_tokens", maxTokens).put("temperature", 0).put("system", "be brief")
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hello"))));
  }

  private static RecordingSink run(Engine engine, GenerateRequest request) {
    RecordingSink sink = new RecordingSink();
    OnContext.call(context, () -> engine.generate(request, sink));
    return sink.awaitDone();
  }

  @Test
  void bothEnginesListBothDialects() throws Exception {
    assertThat(llamacpp.nativeDialects()).containsExactly("responses", "messages");
    Eventually.within(ofSeconds(10), "the openai engine has probed both dialects",
        () -> openai.nativeDialects().size() >= 2);
    assertThat(openai.nativeDialects()).as("probed: POST {} answered 400 (responses) and 500 (messages)")
        .containsExactly("responses", "messages");
    assertThat(openaiChatOnly.nativeDialects()).isEmpty();
  }

  @Test
  void aResponsesRequestStreamsThroughLlamaServersOwnPath() {
    for (Engine engine : new Engine[] {llamacpp, openai}) {
      RecordingSink sink = run(engine, request(engine, responses(6), 6, ResumeState.EMPTY));

      assertThat(sink.error()).as(engine.kind()).isNull();
      assertThat(sink.text()).isNotEmpty();
      assertThat(sink.finishReason()).as("cut by max_output_tokens").isEqualTo("length");
      assertThat(sink.usage().completionTokens()).isEqualTo(6);
      assertThat(sink.usage().promptTokens()).isPositive();
    }
  }

  @Test
  void aMessagesRequestStreamsThroughLlamaServersOwnPath() {
    for (Engine engine : new Engine[] {llamacpp, openai}) {
      RecordingSink sink = run(engine, request(engine, messages(7), 7, ResumeState.EMPTY));

      assertThat(sink.error()).as(engine.kind()).isNull();
      assertThat(sink.text()).isNotEmpty();
      assertThat(sink.finishReason()).as("stop_reason max_tokens").isEqualTo("length");
      assertThat(sink.usage().completionTokens()).isEqualTo(7);
      assertThat(sink.usage().promptTokens()).isPositive();
    }
  }

  @Test
  void theNativeBodyIsWhatIsSentAndAResumedAttemptUsesChat() {
    // A Messages body llama-server refuses (no messages), beside a valid chat body: which one went is plain to see.
    NativeForm broken = new NativeForm(NativeForm.MESSAGES, new JsonObject().put("model", "x").put("max_tokens", 4));

    RecordingSink fresh = run(llamacpp, request(llamacpp, broken, 4, ResumeState.EMPTY));
    assertThat(fresh.error()).isNotNull();
    assertThat(fresh.error().message()).contains("/v1/messages").contains("'messages' is required");

    RecordingSink resumed = run(llamacpp, request(llamacpp, broken, 8, new ResumeState("Hello there", 3)));
    assertThat(resumed.error()).isNull();
    assertThat(resumed.usage().completionTokens()).as("3 before + 5 continued through chat").isEqualTo(8);

    RecordingSink notServed = run(openaiChatOnly, request(openaiChatOnly, broken, 4, ResumeState.EMPTY));
    assertThat(notServed.error()).as("a worker without the dialect answers from the chat body").isNull();
    assertThat(notServed.usage().completionTokens()).isEqualTo(4);
  }

  @Test
  void aFieldTheKindRefusesIsRefusedInTheNativeBodyToo() {
    NativeForm slot = new NativeForm(NativeForm.RESPONSES, responses(4).body().copy().put("id_slot", 0));

    RecordingSink sink = run(llamacpp, request(llamacpp, slot, 4, ResumeState.EMPTY));

    assertThat(sink.error().code()).isEqualTo(GenerateError.Code.INVALID_REQUEST);
    assertThat(sink.error().param()).isEqualTo("id_slot");
  }
}
