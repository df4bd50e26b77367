package io.switchboard.worker.llamacpp;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.ModelCatalog;
import io.switchboard.protocol.ModelEntry;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.ResumeState;
import io.switchboard.protocol.SamplingParams;
import io.switchboard.protocol.TraceContext;
import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.LlamaCppBinaries;
import io.switchboard.worker.engine.ModelControlException;
import io.switchboard.worker.engine.OnContext;
import io.switchboard.worker.engine.RecordingSink;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A llamacpp worker over a model directory, with real llama-server processes and three tiny GGUFs of different
 * vocabularies and sizes (so their answers differ) plus a truncated one. Each test starts its own engine and stops
 * it, which stops every llama-server it started; the test checks they are gone.
 */
class LlamaCppLibraryEngineTest {

  private static final List<String[]> MODELS = List.of(
      new String[] {"tiny-spm", "ggml-vocab-llama-spm.gguf", "11"},
      new String[] {"tiny-gpt2", "ggml-vocab-gpt-2.gguf", "12"},
      new String[] {"tiny-phi3", "ggml-vocab-phi-3.gguf", "13"});
  private static Path cache;

  @TempDir
  Path dir;
  private Vertx vertx;
  private Context context;
  private LlamaCppLibraryEngine engine;
  private final List<Long> pids = new ArrayList<>();

  @BeforeAll
  static void writeModels() throws Exception {
    Path vocabs = LlamaCppBinaries.directory().getParent().resolve("models");
    cache = Files.createDirectories(Path.of("target", "models", "library").toAbsolutePath());
    for (String[] model : MODELS) {
      Path file = cache.resolve(model[0] + ".gguf");
      if (!Files.exists(file)) {
        TinyLlamaModel.write(vocabs.resolve(model[1]), file, Long.parseLong(model[2]));
      }
    }
  }

  private void start(int modelsMax, long idleUnloadMs, boolean withBroken) throws Exception {
    start(modelsMax, idleUnloadMs, withBroken, LlamaCppOptions.DEFAULT_LOAD_RETRY_BACKOFF_MS);
  }

  private void start(int modelsMax, long idleUnloadMs, boolean withBroken, long retryBackoffMs) throws Exception {
    for (String[] model : MODELS) {
      Files.createSymbolicLink(dir.resolve(model[0] + ".gguf"), cache.resolve(model[0] + ".gguf"));
    }
    if (withBroken) {
      // The first 100 kB of a real model: a valid header whose metadata ends mid-way.
      byte[] head = new byte[100_000];
      try (var in = Files.newInputStream(cache.resolve("tiny-spm.gguf"))) {
        in.readNBytes(head, 0, head.length);
      }
      Files.write(dir.resolve("broken.gguf"), head);
    }
    LlamaCppOptions options = new LlamaCppOptions()
        .setServerBin(LlamaCppBinaries.directory().resolve("llama-server").toString())
        .setModelsDir(dir.toString()).setModelsMax(modelsMax).setIdleUnloadMs(idleUnloadMs)
        .setContextSize(256).setThreads(1).setLoadRetryBackoffMs(retryBackoffMs)
        .setModels(List.of(new ModelSettings().setName("tiny-gpt2").setAliases(List.of("chat"))
            .setContextSize(512)));
    options.validate("workers[0].llamacpp");
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
    engine = OnContext.call(context, () -> new LlamaCppLibraryEngine(vertx, options, "lib-1", 2));
    OnContext.call(context, engine::start).await(20, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    if (engine != null) {
      OnContext.call(context, engine::stop).await(20, TimeUnit.SECONDS);
    }
    if (vertx != null) {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
    for (long pid : pids) {
      ProcessHandle.of(pid).ifPresent(process -> {
        process.destroyForcibly();
        throw new AssertionError("llama-server " + pid + " outlived the engine's stop");
      });
    }
  }

  private static GenerateRequest chat(String model, int maxTokens) {
    JsonObject body = new JsonObject().put("model", model).put("max_tokens", maxTokens).put("temperature", 0)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hello there")));
    return new GenerateRequest(UUID.randomUUID().toString(), "req-" + UUID.randomUUID(), model, RequestKind.CHAT,
        body, "", new SamplingParams(maxTokens, 0.0, 1.0, List.of(), null), 0, TraceContext.NONE, ResumeState.EMPTY,
        null, "", 0);
  }

  private RecordingSink generate(String model, int maxTokens, RecordingSink sink) {
    OnContext.call(context, () -> engine.generate(chat(model, maxTokens), sink));
    return sink;
  }

  private ModelCatalog catalog() {
    ModelCatalog catalog = OnContext.call(context, engine::catalog);
    // Remember every llama-server this engine ran, to check each is gone after the test.
    JsonArray models = OnContext.call(context, engine::status).getJsonArray("models");
    for (int i = 0; i < models.size(); i++) {
      Long pid = models.getJsonObject(i).getLong("pid");
      if (pid != null && !pids.contains(pid)) {
        pids.add(pid);
      }
    }
    return catalog;
  }

  private String state(String model) {
    return catalog().find(model).state();
  }

  private void catalogEventually(String what, Predicate<ModelCatalog> condition) throws Exception {
    Eventually.read(ofSeconds(15), what, () -> catalog(), condition);
  }

  private long pidOf(String model) {
    JsonArray models = OnContext.call(context, engine::status).getJsonArray("models");
    for (int i = 0; i < models.size(); i++) {
      if (model.equals(models.getJsonObject(i).getString("name"))) {
        return models.getJsonObject(i).getLong("pid", -1L);
      }
    }
    return -1;
  }

  @Test
  void everyFileIsAnnouncedUnloadedWithItsSizeAndTheFirstRequestLoadsItsModel() throws Exception {
    start(3, 0, false);
    ModelCatalog before = catalog();
    assertThat(before.models()).extracting(ModelEntry::name).containsExactly("tiny-gpt2", "tiny-phi3", "tiny-spm");
    assertThat(before.models()).allMatch(entry -> entry.state().equals(ModelEntry.UNLOADED));
    assertThat(before.find("tiny-gpt2").sizeBytes()).isEqualTo(Files.size(cache.resolve("tiny-gpt2.gguf")))
        .isGreaterThan(before.find("tiny-spm").sizeBytes());
    assertThat(OnContext.call(context, engine::models)).containsExactly("tiny-gpt2", "tiny-phi3", "tiny-spm", "chat");

    RecordingSink spm = generate("tiny-spm", 12, new RecordingSink()).awaitDone();
    RecordingSink gpt2 = generate("chat", 12, new RecordingSink()).awaitDone();

    assertThat(spm.error()).isNull();
    assertThat(gpt2.error()).isNull();
    assertThat(spm.usage().completionTokens()).isEqualTo(12);
    assertThat(spm.text()).as("different vocabularies and weights answer differently").isNotEqualTo(gpt2.text());
    assertThat(state("tiny-spm")).isEqualTo(ModelEntry.LOADED);
    assertThat(state("tiny-gpt2")).as("loaded through its alias").isEqualTo(ModelEntry.LOADED);
    assertThat(state("tiny-phi3")).isEqualTo(ModelEntry.UNLOADED);
    assertThat(OnContext.call(context, engine::loadsStarted)).isEqualTo(2);
    // Warm: no new load.
    assertThat(generate("tiny-spm", 4, new RecordingSink()).awaitDone().error()).isNull();
    assertThat(OnContext.call(context, engine::loadsStarted)).isEqualTo(2);
  }

  @Test
  void concurrentRequestsAndLoadCommandsForOneColdModelMakeOneLoad() throws Exception {
    start(2, 0, false);
    List<RecordingSink> sinks = new ArrayList<>();
    Future<ModelEntry>[] loaded = OnContext.call(context, () -> {
      for (int i = 0; i < 4; i++) {
        RecordingSink sink = new RecordingSink();
        sinks.add(sink);
        engine.generate(chat("tiny-phi3", 6), sink);
      }
      @SuppressWarnings("unchecked")
      Future<ModelEntry>[] loads = new Future[] {engine.loadModel("tiny-phi3"), engine.loadModel("tiny-phi3")};
      return loads;
    });

    for (RecordingSink sink : sinks) {
      assertThat(sink.awaitDone().error()).isNull();
      assertThat(sink.usage().completionTokens()).isEqualTo(6);
    }
    assertThat(loaded[0].await(10, TimeUnit.SECONDS).state()).isEqualTo(ModelEntry.LOADED);
    assertThat(loaded[1].await(10, TimeUnit.SECONDS).state()).isEqualTo(ModelEntry.LOADED);
    assertThat(OnContext.call(context, engine::loadsStarted)).isEqualTo(1);
  }

  @Test
  void aLoadPastModelsMaxUnloadsTheLeastRecentlyUsedIdleModel() throws Exception {
    start(2, 0, false);
    assertThat(generate("tiny-spm", 2, new RecordingSink()).awaitDone().error()).isNull();
    assertThat(generate("tiny-gpt2", 2, new RecordingSink()).awaitDone().error()).isNull();
    long gpt2Pid = pidOf("tiny-gpt2");
    // spm is used again: gpt2 is now the least recently used.
    assertThat(generate("tiny-spm", 2, new RecordingSink()).awaitDone().error()).isNull();

    assertThat(generate("tiny-phi3", 2, new RecordingSink()).awaitDone().error()).isNull();

    assertThat(state("tiny-gpt2")).isEqualTo(ModelEntry.UNLOADED);
    assertThat(state("tiny-spm")).isEqualTo(ModelEntry.LOADED);
    assertThat(state("tiny-phi3")).isEqualTo(ModelEntry.LOADED);
    assertThat(ProcessHandle.of(gpt2Pid).map(ProcessHandle::isAlive).orElse(false))
        .as("the unloaded model's llama-server is gone").isFalse();
  }

  @Test
  void aModelWithARequestInFlightIsNotUnloadedForRoomTheLoadWaitsForIt() throws Exception {
    start(1, 0, false);
    // A long answer held back by a client that does not read: the request stays in flight.
    RecordingSink held = generate("tiny-spm", 400, new RecordingSink(2));
    catalogEventually("tiny-spm streaming", catalog -> held.writeCount() >= 2);

    RecordingSink waiting = generate("tiny-gpt2", 3, new RecordingSink());
    // Real time in which the load would evict tiny-spm's llama-server if it did not wait for its request.
    Thread.sleep(1500);

    assertThat(state("tiny-spm")).isEqualTo(ModelEntry.LOADED);
    assertThat(catalog().find("tiny-spm").inFlight()).isEqualTo(1);
    assertThat(state("tiny-gpt2")).as("waits for room").isEqualTo(ModelEntry.LOADING);
    assertThat(waiting.isDone()).isFalse();
    assertThatThrownBy(() -> OnContext.call(context, () -> engine.unloadModel("tiny-spm"))
        .await(5, TimeUnit.SECONDS)).isInstanceOf(ModelControlException.class)
        .hasMessageContaining("has 1 requests in flight on worker lib-1");

    OnContext.run(context, held::release);
    assertThat(held.awaitDone().error()).isNull();
    assertThat(waiting.awaitDone().error()).isNull();
    assertThat(state("tiny-spm")).isEqualTo(ModelEntry.UNLOADED);
    assertThat(state("tiny-gpt2")).isEqualTo(ModelEntry.LOADED);
  }

  @Test
  void loadsWaitingForRoomDoNotHoldRoomFromEachOther() throws Exception {
    // Found by load-tests/bin/model-swap-bench: two loads waiting for room each counted the other as holding a
    // place, so once the busy model was unloaded neither fitted and both waited until startupTimeoutMs.
    start(1, 0, false);
    RecordingSink held = generate("tiny-spm", 400, new RecordingSink(2));
    catalogEventually("tiny-spm streaming", catalog -> held.writeCount() >= 2);
    RecordingSink gpt2 = generate("tiny-gpt2", 3, new RecordingSink());
    RecordingSink phi3 = generate("tiny-phi3", 3, new RecordingSink());
    catalogEventually("both wait for room", catalog -> catalog.find("tiny-gpt2").state().equals(ModelEntry.LOADING)
        && catalog.find("tiny-phi3").state().equals(ModelEntry.LOADING));

    OnContext.run(context, held::release);

    assertThat(held.awaitDone().error()).isNull();
    assertThat(gpt2.awaitDone().error()).as("the first waiting load gets the room").isNull();
    assertThat(phi3.awaitDone().error()).as("the second gets it once the first is idle").isNull();
    assertThat(state("tiny-spm")).isEqualTo(ModelEntry.UNLOADED);
    assertThat(OnContext.call(context, engine::loadsStarted)).isEqualTo(3);
  }

  @Test
  void anIdleModelIsUnloadedAfterTheIdleTime() throws Exception {
    start(2, 1500, false);
    assertThat(generate("tiny-spm", 2, new RecordingSink()).awaitDone().error()).isNull();
    long pid = pidOf("tiny-spm");
    long loadedAt = System.currentTimeMillis();
    assertThat(state("tiny-spm")).isEqualTo(ModelEntry.LOADED);

    catalogEventually("tiny-spm unloaded", catalog -> catalog.find("tiny-spm").state().equals(ModelEntry.UNLOADED));

    assertThat(System.currentTimeMillis() - loadedAt).as("not before the idle time").isGreaterThanOrEqualTo(1400);
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    // And it loads again on the next request.
    assertThat(generate("tiny-spm", 2, new RecordingSink()).awaitDone().error()).isNull();
  }

  @Test
  void aCorruptFileFailsItsRequestsWithTheCauseAndLeavesTheOtherModelsServing() throws Exception {
    start(2, 0, true);
    assertThat(generate("tiny-spm", 2, new RecordingSink()).awaitDone().error()).isNull();

    RecordingSink broken = generate("broken", 2, new RecordingSink()).awaitDone();

    GenerateError error = broken.error();
    assertThat(error).isNotNull();
    assertThat(error.code()).isEqualTo(GenerateError.Code.ENGINE_FAILED);
    assertThat(error.message()).contains("model 'broken' failed to load on worker lib-1")
        .contains("llama-server exited with status").contains("gguf");
    ModelEntry entry = catalog().find("broken");
    assertThat(entry.state()).isEqualTo(ModelEntry.FAILED);
    // The message adds when the model is tried again (its back-off); the entry keeps the cause and the time apart.
    assertThat(error.message()).startsWith(entry.reason()).contains("it is not loaded again on worker lib-1 before");
    assertThat(entry.retryAtMs()).isGreaterThan(System.currentTimeMillis());
    assertThatThrownBy(() -> OnContext.call(context, () -> engine.loadModel("broken")).await(10, TimeUnit.SECONDS))
        .isInstanceOf(ModelControlException.class).hasMessageContaining("model 'broken' failed to load");
    // The others are untouched: the loaded one still serves, a cold one still loads.
    assertThat(state("tiny-spm")).isEqualTo(ModelEntry.LOADED);
    assertThat(generate("tiny-spm", 2, new RecordingSink()).awaitDone().error()).isNull();
    assertThat(generate("tiny-phi3", 2, new RecordingSink()).awaitDone().error()).isNull();
  }

  @Test
  void aFailedLoadIsNotTriedAgainForItsBackoffUnlessTheFileChangesOrAnOperatorAsks() throws Exception {
    start(2, 0, true, 60_000);

    GenerateError first = generate("broken", 2, new RecordingSink()).awaitDone().error();
    assertThat(first.message()).contains("model 'broken' failed to load on worker lib-1")
        .contains("it is not loaded again on worker lib-1 before").contains("(in 60 s;");
    assertThat(OnContext.call(context, () -> engine.loadsStarted())).isEqualTo(1);
    ModelEntry entry = catalog().find("broken");
    assertThat(entry.retryAtMs()).isBetween(System.currentTimeMillis() + 50_000, System.currentTimeMillis() + 60_000);
    assertThat(OnContext.call(context, () -> engine.status()).getJsonArray("models").stream()
        .map(JsonObject.class::cast).filter(m -> "broken".equals(m.getString("name"))).findFirst().orElseThrow()
        .getLong("retryAtMs")).isEqualTo(entry.retryAtMs());

    // Requests meanwhile get the recorded failure at once, with the retry time, and start no llama-server.
    for (int i = 0; i < 5; i++) {
      long askedAt = System.nanoTime();
      GenerateError again = generate("broken", 2, new RecordingSink()).awaitDone().error();
      assertThat(again.code()).isEqualTo(GenerateError.Code.ENGINE_FAILED);
      assertThat(again.message()).startsWith(entry.reason()).contains("before " + java.time.Instant.ofEpochMilli(
          entry.retryAtMs()).truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
      assertThat((System.nanoTime() - askedAt) / 1_000_000).as("answered at once").isLessThan(1000);
    }
    // A gateway's placement load respects it too.
    assertThatThrownBy(() -> OnContext.call(context, () -> engine.loadModel("broken", false))
        .await(10, TimeUnit.SECONDS)).hasMessageContaining("it is not loaded again");
    assertThat(OnContext.call(context, () -> engine.loadsStarted())).isEqualTo(1);

    // An operator's load tries now; it fails again, and the back-off starts over from the base.
    assertThatThrownBy(() -> OnContext.call(context, () -> engine.loadModel("broken")).await(20, TimeUnit.SECONDS))
        .hasMessageContaining("llama-server exited").hasMessageContaining("(in 60 s;")
        .hasMessageContaining("after 1 failed load,");
    assertThat(OnContext.call(context, () -> engine.loadsStarted())).isEqualTo(2);

    // A replaced file is tried on the next request: here the real model under the broken name.
    Files.delete(dir.resolve("broken.gguf"));
    Files.copy(cache.resolve("tiny-spm.gguf"), dir.resolve("broken.gguf"));
    OnContext.call(context, () -> engine.rescan()).await(10, TimeUnit.SECONDS);
    assertThat(catalog().find("broken").state()).isEqualTo(ModelEntry.UNLOADED);
    assertThat(catalog().find("broken").retryAtMs()).isZero();
    assertThat(generate("broken", 2, new RecordingSink()).awaitDone().error()).isNull();
    assertThat(OnContext.call(context, () -> engine.loadsStarted())).isEqualTo(3);
  }

  @Test
  void withoutABackoffAFailedModelIsTriedOnTheNextRequestAsBefore() throws Exception {
    start(2, 0, true, 0);

    assertThat(generate("broken", 2, new RecordingSink()).awaitDone().error().message())
        .doesNotContain("not loaded again");
    assertThat(generate("broken", 2, new RecordingSink()).awaitDone().error().message())
        .contains("llama-server exited");
    assertThat(OnContext.call(context, () -> engine.loadsStarted())).isEqualTo(2);
  }

  @Test
  void aModelThatIsNotInTheDirectoryIsNotServedAndTheErrorSaysWhatIs() throws Exception {
    start(2, 0, false);

    GenerateError error = generate("qwen-72b", 2, new RecordingSink()).awaitDone().error();

    assertThat(error.code()).isEqualTo(GenerateError.Code.MODEL_NOT_SERVED);
    assertThat(error.message()).contains("worker lib-1 has no model 'qwen-72b' in its model directory")
        .contains("tiny-spm");
  }
}
