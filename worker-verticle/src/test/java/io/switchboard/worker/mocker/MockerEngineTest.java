package io.switchboard.worker.mocker;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.ResumeState;
import io.switchboard.protocol.SamplingParams;
import io.switchboard.testsupport.Eventually;
import io.switchboard.worker.engine.Generation;
import io.switchboard.worker.engine.OnContext;
import io.switchboard.worker.engine.RecordingSink;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class MockerEngineTest {

  private static final String PROMPT = "user: tell me about rivers\n";
  private static final AtomicInteger STREAMS = new AtomicInteger();

  private Vertx vertx;
  private Context context;

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    context = vertx.getOrCreateContext();
  }

  private static MockerOptions instant() {
    return new MockerOptions().setPrefillTokensPerSecond(0).setDecodeTokensPerSecond(0);
  }

  private MockerEngine engine(MockerOptions options, int contextLength) {
    return new MockerEngine(vertx, options, "worker-1", contextLength);
  }

  private MockerEngine instantEngine() {
    return engine(instant(), 8192);
  }

  private static SamplingParams sampling(Integer maxTokens, List<String> stop, Long seed) {
    return new SamplingParams(maxTokens, 1.0, 1.0, stop, seed);
  }

  private static GenerateRequest request(String prompt, SamplingParams sampling, ResumeState resume) {
    return new GenerateRequest("stream-" + STREAMS.incrementAndGet(), "req", "mock-llm", RequestKind.CHAT, null,
        prompt, sampling, 0, null, resume, "gateway-node", "reply-address", 16);
  }

  private static GenerateRequest request(String prompt, Integer maxTokens) {
    return request(prompt, sampling(maxTokens, null, null), null);
  }

  private Generation start(MockerEngine engine, GenerateRequest request, RecordingSink sink) {
    return OnContext.call(context, () -> engine.generate(request, sink));
  }

  private RecordingSink generate(MockerEngine engine, GenerateRequest request) {
    RecordingSink sink = new RecordingSink();
    start(engine, request, sink);
    return sink.awaitDone();
  }

  private static void assertEndedCleanly(RecordingSink sink) {
    assertThat(sink.ends()).as("end calls").isEqualTo(1);
    assertThat(sink.fails()).as("fail calls").isZero();
    assertThat(sink.writesAfterDone()).as("writes after the end").isZero();
  }

  @Test
  void samePromptAndSeedGiveTheSameText() {
    MockerEngine engine = instantEngine();

    RecordingSink first = generate(engine, request(PROMPT, sampling(30, null, 7L), null));
    RecordingSink second = generate(engine, request(PROMPT, sampling(30, null, 7L), null));
    RecordingSink otherSeed = generate(engine, request(PROMPT, sampling(30, null, 8L), null));
    RecordingSink otherPrompt = generate(engine, request("user: tell me about stones\n", sampling(30, null, 7L), null));

    assertThat(first.text()).isNotBlank().isEqualTo(second.text());
    assertThat(otherSeed.text()).isNotEqualTo(first.text());
    assertThat(otherPrompt.text()).isNotEqualTo(first.text());
  }

  @Test
  void engineSeedIsUsedWhenTheRequestHasNone() {
    RecordingSink seed42 = generate(engine(instant().setSeed(42), 8192), request(PROMPT, 30));
    RecordingSink again42 = generate(engine(instant().setSeed(42), 8192), request(PROMPT, 30));
    RecordingSink seed43 = generate(engine(instant().setSeed(43), 8192), request(PROMPT, 30));
    RecordingSink request42 = generate(engine(instant().setSeed(43), 8192),
        request(PROMPT, sampling(30, null, 42L), null));

    assertThat(again42.text()).isEqualTo(seed42.text());
    assertThat(seed43.text()).isNotEqualTo(seed42.text());
    assertThat(request42.text()).isEqualTo(seed42.text());
  }

  @Test
  void maxTokensGivesExactlyThatManyTokensAndFinishReasonLength() {
    for (int n : new int[] {1, 2, 25, 300}) {
      RecordingSink sink = generate(instantEngine(), request(PROMPT, n));

      assertEndedCleanly(sink);
      assertThat(sink.finishReason()).isEqualTo("length");
      assertThat(sink.usage().completionTokens()).isEqualTo(n);
      assertThat(sink.usage().promptTokens()).isEqualTo(WordTokenizer.count(PROMPT));
      assertThat(WordTokenizer.count(sink.text())).as("tokens in the text for max_tokens " + n).isEqualTo(n);
      assertThat(sink.tokens()).as("tokens reported on the chunks").isEqualTo(n);
      assertThat(sink.writeCount()).as("one write per token without stop sequences").isEqualTo(n);
    }
  }

  @Test
  void withoutMaxTokensTheGatewaysCapStillBoundsTheAnswer() {
    MockerEngine engine = engine(instant().setMinAnswerTokens(40).setMaxAnswerTokens(40), 8192);
    RecordingSink sink = generate(engine, request(PROMPT, new SamplingParams(null, 1.0, 1.0, null, null, 9), null));

    assertEndedCleanly(sink);
    assertThat(sink.usage().completionTokens()).isEqualTo(9);
    assertThat(sink.finishReason()).isEqualTo("length");
  }

  @Test
  void withoutMaxTokensTheLengthIsNaturalAndFinishReasonStop() {
    MockerEngine engine = engine(instant().setMinAnswerTokens(5).setMaxAnswerTokens(12), 8192);
    for (int i = 0; i < 20; i++) {
      RecordingSink sink = generate(engine, request("user: question number " + i + "\n", null));

      assertEndedCleanly(sink);
      assertThat(sink.finishReason()).isEqualTo("stop");
      int tokens = WordTokenizer.count(sink.text());
      assertThat(tokens).isBetween(5, 12);
      assertThat(sink.usage().completionTokens()).isEqualTo(tokens);
    }
  }

  @Test
  void aStopSequenceTruncatesTheTextBeforeIt() {
    MockerEngine engine = instantEngine();
    String full = generate(engine, request(PROMPT, 40)).text();
    String[] words = full.split(" ");
    // Two consecutive words from the middle: the stop spans a token boundary.
    String stop = words[10] + " " + words[11];
    int at = full.indexOf(stop);

    RecordingSink sink = generate(engine, request(PROMPT, sampling(40, List.of("NEVER-THERE", stop), null), null));

    assertEndedCleanly(sink);
    assertThat(sink.finishReason()).isEqualTo("stop");
    assertThat(sink.text()).isEqualTo(full.substring(0, at));
    assertThat(sink.text()).doesNotContain(stop);
    for (RecordingSink.Write write : sink.writes()) {
      assertThat(write.text()).doesNotContain(stop);
    }
  }

  @Test
  void aStopSequenceInsideAWordIsNeverEmittedEvenPartly() {
    MockerEngine engine = instantEngine();
    String full = generate(engine, request(PROMPT, 40)).text();
    String[] words = full.split(" ");
    // The tail of one word, the space and the head of the next.
    String left = words[15];
    String right = words[16];
    String stop = left.substring(left.length() - 1) + " " + right.substring(0, 1);
    int at = full.indexOf(stop);

    RecordingSink sink = generate(engine, request(PROMPT, sampling(40, List.of(stop), null), null));

    assertEndedCleanly(sink);
    assertThat(sink.finishReason()).isEqualTo("stop");
    assertThat(sink.text()).isEqualTo(full.substring(0, at)).doesNotContain(stop);
  }

  @Test
  void aStopSequenceThatNeverAppearsChangesNothing() {
    MockerEngine engine = instantEngine();
    RecordingSink plain = generate(engine, request(PROMPT, 30));

    RecordingSink withStop = generate(engine, request(PROMPT, sampling(30, List.of("#"), null), null));

    assertEndedCleanly(withStop);
    assertThat(withStop.text()).isEqualTo(plain.text());
    assertThat(withStop.finishReason()).isEqualTo("length");
  }

  @Test
  void promptPlusMaxTokensBeyondTheContextLengthFails() {
    MockerEngine engine = engine(instant(), 64);
    int promptTokens = WordTokenizer.count(PROMPT);

    RecordingSink sink = generate(engine, request(PROMPT, 64 - promptTokens + 1));

    assertThat(sink.fails()).isEqualTo(1);
    assertThat(sink.ends()).isZero();
    assertThat(sink.writeCount()).isZero();
    assertThat(sink.error().code()).isEqualTo(GenerateError.Code.INVALID_REQUEST);
    assertThat(sink.error().retryable()).isFalse();
    assertThat(sink.error().workerId()).isEqualTo("worker-1");
    assertThat(sink.error().message()).contains("context length is 64");
  }

  @Test
  void promptPlusMaxTokensExactlyAtTheContextLengthIsAccepted() {
    MockerEngine engine = engine(instant(), 64);
    int maxTokens = 64 - WordTokenizer.count(PROMPT);

    RecordingSink sink = generate(engine, request(PROMPT, maxTokens));

    assertEndedCleanly(sink);
    assertThat(sink.usage().completionTokens()).isEqualTo(maxTokens);
  }

  @Test
  void resumingARequestThatFitsTheContextStillFits() {
    // max_tokens counts the whole answer, the resumed part included: the resumed text must not count twice.
    int maxTokens = 64 - WordTokenizer.count(PROMPT);
    MockerEngine engine = engine(instant(), 64);
    RecordingSink fresh = generate(engine, request(PROMPT, maxTokens));
    assertEndedCleanly(fresh);
    int k = 5;
    StringBuilder firstK = new StringBuilder();
    fresh.writes().subList(0, k).forEach(w -> firstK.append(w.text()));

    RecordingSink resumed = generate(engine,
        request(PROMPT, sampling(maxTokens, null, null), new ResumeState(firstK.toString(), k)));

    assertEndedCleanly(resumed);
    assertThat(firstK + resumed.text()).isEqualTo(fresh.text());
  }

  @Test
  void resumingStillRefusesARequestTooLongForTheContext() {
    int maxTokens = 64 - WordTokenizer.count(PROMPT) + 1;

    RecordingSink resumed = generate(engine(instant(), 64),
        request(PROMPT, sampling(maxTokens, null, null), new ResumeState("the model", 2)));

    assertThat(resumed.fails()).isEqualTo(1);
    assertThat(resumed.error().code()).isEqualTo(GenerateError.Code.INVALID_REQUEST);
  }

  @Test
  void aPromptLongerThanTheContextFailsEvenWithoutMaxTokens() {
    MockerEngine engine = engine(instant(), 16);

    RecordingSink sink = generate(engine, request("word ".repeat(17), null));

    assertThat(sink.fails()).isEqualTo(1);
    assertThat(sink.error().code()).isEqualTo(GenerateError.Code.INVALID_REQUEST);
    assertThat(sink.error().message()).contains("context length is 16");
  }

  @Test
  void aPassedDeadlineFailsTheStream() {
    GenerateRequest expired = new GenerateRequest("s-expired", "req", "mock-llm", RequestKind.CHAT, null, PROMPT,
        sampling(10, null, null), System.currentTimeMillis() - 1000, null, null, null, "reply", 16);

    RecordingSink sink = generate(instantEngine(), expired);

    assertThat(sink.fails()).isEqualTo(1);
    assertThat(sink.ends()).isZero();
    assertThat(sink.error().code()).isEqualTo(GenerateError.Code.DEADLINE_EXCEEDED);
  }

  @Test
  void resumingAfterKTokensProducesExactlyTheRestOfTheAnswer() {
    MockerEngine engine = instantEngine();
    RecordingSink fresh = generate(engine, request(PROMPT, 20));
    String full = fresh.text();

    for (int k : new int[] {1, 7, 19}) {
      StringBuilder firstK = new StringBuilder();
      fresh.writes().subList(0, k).forEach(w -> firstK.append(w.text()));

      RecordingSink resumed = generate(engine,
          request(PROMPT, sampling(20, null, null), new ResumeState(firstK.toString(), k)));

      assertEndedCleanly(resumed);
      assertThat(firstK + resumed.text()).as("resumed after " + k + " tokens").isEqualTo(full);
      assertThat(resumed.writeCount()).isEqualTo(20 - k);
      assertThat(resumed.finishReason()).isEqualTo("length");
      assertThat(resumed.usage().completionTokens()).isEqualTo(20);
    }
  }

  @Test
  void resumingANaturalLengthAnswerFinishesItAtTheSamePlace() {
    MockerEngine engine = instantEngine();
    RecordingSink fresh = generate(engine, request(PROMPT, null));
    int k = 5;
    StringBuilder firstK = new StringBuilder();
    fresh.writes().subList(0, k).forEach(w -> firstK.append(w.text()));

    RecordingSink resumed = generate(engine,
        request(PROMPT, sampling(null, null, null), new ResumeState(firstK.toString(), k)));

    assertEndedCleanly(resumed);
    assertThat(firstK + resumed.text()).isEqualTo(fresh.text());
    assertThat(resumed.finishReason()).isEqualTo("stop");
    assertThat(resumed.usage().completionTokens()).isEqualTo(fresh.usage().completionTokens());
  }

  @Test
  void aFullSinkGetsNoMoreWritesUntilItDrains() throws Exception {
    MockerEngine engine = instantEngine();
    String expected = generate(engine, request(PROMPT, 10)).text();
    RecordingSink sink = new RecordingSink(3);

    start(engine, request(PROMPT, 10), sink);
    // Give the event loop time to do anything else it would (it should do nothing).
    Thread.sleep(100);
    OnContext.run(context, () -> { });

    assertThat(sink.writeCount()).isEqualTo(3);
    assertThat(sink.isDone()).isFalse();
    assertThat(sink.hasDrainHandler()).isTrue();

    OnContext.run(context, sink::release);
    sink.awaitDone();

    assertEndedCleanly(sink);
    assertThat(sink.writeCount()).isEqualTo(10);
    assertThat(sink.finishReason()).isEqualTo("length");
    assertThat(sink.text()).isEqualTo(expected);
  }

  @Test
  void cancelWhileWaitingForDrainStopsEveryFurtherWrite() throws Exception {
    MockerEngine engine = instantEngine();
    RecordingSink sink = new RecordingSink(3);
    Generation generation = start(engine, request(PROMPT, 10), sink);

    OnContext.run(context, generation::cancel);
    OnContext.run(context, sink::release);
    // Time for a write the cancel failed to stop to land.
    Thread.sleep(50);
    OnContext.run(context, () -> { });

    assertThat(sink.writeCount()).isEqualTo(3);
    assertThat(sink.ends()).isZero();
    assertThat(sink.fails()).isZero();
  }

  @Test
  void cancelWhileDecodingStopsEveryFurtherWrite() throws Exception {
    // 100 tokens/s: one token every 10 ms; cancelled inside the second write.
    MockerEngine engine = engine(instant().setDecodeTokensPerSecond(100), 8192);
    AtomicReference<Generation> generation = new AtomicReference<>();
    RecordingSink sink = new RecordingSink();
    sink.onWrite(() -> {
      if (sink.writeCount() == 2) {
        generation.get().cancel();
      }
    });

    OnContext.run(context, () -> generation.set(engine.generate(request(PROMPT, 50), sink)));
    Eventually.within(ofSeconds(10), "the second token is written", () -> sink.writeCount() >= 2);
    // 200 ms is room for 20 more tokens had the cancel not worked.
    Thread.sleep(200);

    assertThat(sink.writeCount()).isEqualTo(2);
    assertThat(sink.ends()).isZero();
    assertThat(sink.fails()).isZero();
  }

  @Test
  void cancelAfterTheEndIsHarmless() {
    MockerEngine engine = instantEngine();
    RecordingSink sink = new RecordingSink();
    Generation generation = start(engine, request(PROMPT, 5), sink);
    sink.awaitDone();

    OnContext.run(context, generation::cancel);

    assertEndedCleanly(sink);
  }

  @Test
  void concurrentStreamsSlowEachOtherAndStopCountingWhenDone() {
    MockerOptions options = instant().setDecodeTokensPerSecond(100).setBatchSlowdown(0.5);
    MockerEngine engine = engine(options, 8192);
    long alone = 10_000_000L;
    assertThat(engine.decodeIntervalNanos()).isEqualTo(alone);

    // Sinks full from the start hold their streams open without decoding.
    RecordingSink a = new RecordingSink(0);
    RecordingSink b = new RecordingSink(0);
    Generation first = start(engine, request(PROMPT, 5), a);
    Generation second = start(engine, request(PROMPT, 5), b);
    assertThat(engine.decodeIntervalNanos()).isEqualTo(15_000_000L);

    OnContext.run(context, first::cancel);
    OnContext.run(context, first::cancel);
    assertThat(engine.decodeIntervalNanos()).isEqualTo(alone);
    OnContext.run(context, second::cancel);

    // Had a cancel been counted twice, two new streams would not slow each other down.
    start(engine, request(PROMPT, 5), new RecordingSink(0));
    start(engine, request(PROMPT, 5), new RecordingSink(0));
    assertThat(engine.decodeIntervalNanos()).isEqualTo(15_000_000L);
  }

  @Test
  void aFiniteDecodeRateTakesRealTime() {
    MockerEngine engine = engine(instant().setDecodeTokensPerSecond(200), 8192);
    RecordingSink sink = new RecordingSink();

    long started = System.nanoTime();
    start(engine, request(PROMPT, 20), sink);
    sink.awaitDone();
    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

    assertEndedCleanly(sink);
    assertThat(sink.usage().completionTokens()).isEqualTo(20);
    // 20 tokens at 5 ms each, the first one due at once: at least 95 ms; allow for timer rounding.
    assertThat(elapsedMs).isGreaterThanOrEqualTo(80);
    assertThat(elapsedMs).isLessThan(5_000);
  }

  @Test
  void prefillTimeGrowsWithThePrompt() {
    // 1000 prompt tokens per second and a 100-token prompt: ~100 ms before the first token.
    MockerEngine engine = engine(instant().setPrefillTokensPerSecond(1000), 8192);
    String prompt = "word ".repeat(100);
    RecordingSink sink = new RecordingSink();

    long started = System.nanoTime();
    start(engine, request(prompt, 1), sink);
    sink.awaitDone();
    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

    assertEndedCleanly(sink);
    assertThat(elapsedMs).isGreaterThanOrEqualTo(80).isLessThan(5_000);
  }

  @Test
  void aRepeatedPromptIsServedFromThePrefixCache() {
    MockerEngine engine = engine(instant().setPrefillTokensPerSecond(1000), 8192);
    String prompt = "system: " + "alpha beta gamma delta ".repeat(100) + "\nuser: hi\n";
    int promptTokens = WordTokenizer.count(prompt);

    long started = System.nanoTime();
    RecordingSink cold = generate(engine, request(prompt, 1));
    long coldNanos = System.nanoTime() - started;
    started = System.nanoTime();
    RecordingSink warm = generate(engine, request(prompt, 1));
    long warmNanos = System.nanoTime() - started;

    assertThat(cold.usage().cachedTokens()).isZero();
    // Whole 16-token blocks of the prompt (plus the assistant turn's opening) are reused.
    assertThat(warm.usage().cachedTokens()).isGreaterThan(promptTokens - 16).isLessThanOrEqualTo(promptTokens);
    assertThat(warmNanos).as("a cached prompt skips most of the prefill").isLessThan(coldNanos / 2);
    assertThat(engine.status().getJsonObject("prefixCache").getLong("hitTokens"))
        .isEqualTo((long) warm.usage().cachedTokens());
  }

  @Test
  void aFollowUpTurnReusesThePreviousTurnAndTheAnswerGivenInIt() {
    MockerEngine engine = instantEngine();
    String turn1 = "system: " + "be brief and kind ".repeat(20) + "\nuser: what is a river?\n";
    RecordingSink first = generate(engine, request(turn1, 20));
    String turn2 = turn1 + "assistant: " + first.text() + "\nuser: and a lake?\n";

    RecordingSink second = generate(engine, request(turn2, 5));

    int reusable = WordTokenizer.count(turn1 + "assistant: " + first.text());
    assertThat(second.usage().cachedTokens()).isGreaterThan(reusable - 16).isLessThanOrEqualTo(reusable);
  }

  @Test
  void promptsArePrefilledOneAfterAnother() {
    MockerEngine engine = engine(instant().setPrefillTokensPerSecond(1000), 8192);
    RecordingSink a = new RecordingSink();
    RecordingSink b = new RecordingSink();

    start(engine, request("alpha ".repeat(200), 1), a);
    start(engine, request("omega ".repeat(200), 1), b);
    long backlogMs = OnContext.call(context, () -> engine.status().getLong("prefillBacklogMs"));

    // Two uncached 200-token prompts at 1000 tokens/s: about 400 ms of prefill booked.
    assertThat(backlogMs).isBetween(250L, 450L);
    a.awaitDone();
    b.awaitDone();
  }

  @Test
  void withoutAPrefixCacheNothingIsReused() {
    MockerEngine engine = engine(instant().setKvCacheBlocks(0), 8192);
    String prompt = "alpha beta gamma ".repeat(40);
    generate(engine, request(prompt, 1));

    assertThat(generate(engine, request(prompt, 1)).usage().cachedTokens()).isZero();
  }
}
