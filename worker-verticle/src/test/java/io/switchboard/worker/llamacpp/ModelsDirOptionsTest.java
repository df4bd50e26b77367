package io.switchboard.worker.llamacpp;

import io.switchboard.worker.WorkerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The settings of a llamacpp worker over a model directory: defaults, the wire form, and every refusal. */
class ModelsDirOptionsTest {

  @TempDir
  Path dir;

  private WorkerOptions worker(JsonObject llamacpp) {
    JsonObject base = new JsonObject().put("serverBin", "/bin/llama-server").put("modelsDir", dir.toString());
    return new WorkerOptions(new JsonObject().put("engine", "llamacpp").put("llamacpp", base.mergeIn(llamacpp)));
  }

  private void refused(JsonObject llamacpp, String message) {
    assertThatThrownBy(() -> worker(llamacpp).validate("workers[0]")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message);
  }

  @Test
  void theDefaultsAreValidAndTheWorkerAnnouncesNoSingleModel() {
    WorkerOptions options = worker(new JsonObject());

    assertThatCode(() -> options.validate("workers[0]")).doesNotThrowAnyException();
    LlamaCppOptions llamacpp = options.getLlamacpp();
    assertThat(llamacpp.getModelsMax()).isEqualTo(LlamaCppOptions.DEFAULT_MODELS_MAX);
    assertThat(llamacpp.getIdleUnloadMs()).isEqualTo(LlamaCppOptions.DEFAULT_IDLE_UNLOAD_MS);
    assertThat(llamacpp.getMaxListedModels()).isEqualTo(LlamaCppOptions.DEFAULT_MAX_LISTED_MODELS);
    assertThat(llamacpp.getLoadRetryBackoffMs()).isEqualTo(30_000).isEqualTo(LlamaCppOptions.DEFAULT_LOAD_RETRY_BACKOFF_MS);
    assertThat(options.announcedModel()).isEmpty();
    assertThat(options.resolveId()).startsWith("models-" + dir.getFileName() + "-");
  }

  @Test
  void perModelSettingsRoundTripThroughTheWireForm() {
    JsonObject model = new JsonObject().put("name", "qwen").put("contextSize", 8192).put("gpuLayers", 99)
        .put("chatTemplate", "chatml").put("aliases", new JsonArray().add("chat").add("default"));
    LlamaCppOptions options = worker(new JsonObject().put("models", new JsonArray().add(model))
        .put("modelsMax", 3).put("idleUnloadMs", 0).put("loadRetryBackoffMs", 5000)).getLlamacpp();

    LlamaCppOptions back = new LlamaCppOptions(new JsonObject(options.toJson().encode()));

    assertThat(back.getModelsMax()).isEqualTo(3);
    assertThat(back.getIdleUnloadMs()).isZero();
    assertThat(back.getLoadRetryBackoffMs()).isEqualTo(5000);
    ModelSettings settings = back.getModels().get(0);
    assertThat(settings.getContextSize()).isEqualTo(8192);
    assertThat(settings.getGpuLayers()).isEqualTo(99);
    assertThat(settings.getChatTemplate()).isEqualTo("chatml");
    assertThat(settings.getAliases()).containsExactly("chat", "default");
  }

  @Test
  void aliasesFromTheEnvironmentAreCommaSeparated() {
    ModelSettings settings = ModelSettings.read(new JsonObject().put("name", "a").put("aliases", "x, y"), "m");

    assertThat(settings.getAliases()).containsExactly("x", "y");
  }

  @Test
  void badSettingsAreRefusedNamingTheKey() {
    refused(new JsonObject().put("modelsMax", 0), "workers[0].llamacpp.modelsMax must be >= 1");
    refused(new JsonObject().put("idleUnloadMs", -1), "workers[0].llamacpp.idleUnloadMs must be >= 0");
    refused(new JsonObject().put("maxListedModels", 0), "workers[0].llamacpp.maxListedModels must be between 1");
    refused(new JsonObject().put("memoryBudgetMb", -1), "workers[0].llamacpp.memoryBudgetMb must be between 0");
    refused(new JsonObject().put("loadRetryBackoffMs", -1), "workers[0].llamacpp.loadRetryBackoffMs must be between 0");
    refused(new JsonObject().put("loadRetryBackoffMs", 86_400_001L), "loadRetryBackoffMs must be between 0 (no back-off");
    refused(new JsonObject().put("modelsDir", dir.resolve("absent").toString()),
        "workers[0].llamacpp.modelsDir is not a directory");
    refused(new JsonObject().put("serverBin", (String) null), "modelsDir needs serverBin");
    refused(new JsonObject().put("modelPath", "/m.gguf"), "sets modelsDir (--models-dir) and also modelPath");
    refused(new JsonObject().put("modelsOverRpcPool", true).put("rpcPool", new JsonObject()
        .put("checkIntervalMs", 5)), "workers[0].llamacpp.rpcPool.checkIntervalMs must be between 100 and 2000");
    refused(new JsonObject().put("modelsOverRpcPool", true).put("restartDebounceMs", -1),
        "workers[0].llamacpp.restartDebounceMs must be >= 0");
    refused(new JsonObject().put("models", new JsonArray().add("qwen")),
        "workers[0].llamacpp.models[0] must be a mapping");
    refused(new JsonObject().put("models", new JsonArray().add(new JsonObject().put("name", "a").put("ctx", 1))),
        "unknown key 'workers[0].llamacpp.models[0].ctx'");
    refused(new JsonObject().put("models", new JsonArray().add(new JsonObject().put("contextSize", 512))),
        "workers[0].llamacpp.models[0].name must name a model");
    refused(new JsonObject().put("models", new JsonArray().add(new JsonObject().put("name", "a")
        .put("contextSize", 8))), "models[0].contextSize must be 0");
    refused(new JsonObject().put("models", new JsonArray().add(new JsonObject().put("name", "a")
        .put("gpuLayers", -2))), "models[0].gpuLayers must be -1");
    refused(new JsonObject().put("models", new JsonArray().add(new JsonObject().put("name", "a")
        .put("mmproj", dir.resolve("none.gguf").toString()))), "models[0].mmproj is not a readable file");
    refused(new JsonObject().put("models", new JsonArray().add(new JsonObject().put("name", "a")
        .put("chatTemplate", "chatml").put("chatTemplateFile", "/t.jinja"))), "sets both chatTemplate");
    refused(new JsonObject().put("models", new JsonArray().add(new JsonObject().put("name", "a"))
        .add(new JsonObject().put("name", "a"))), "models[1].name 'a' is set twice");
    refused(new JsonObject().put("models", new JsonArray()
        .add(new JsonObject().put("name", "a").put("aliases", new JsonArray().add("b")))
        .add(new JsonObject().put("name", "b"))), "'b' already names another model or alias");
  }

  @Test
  void aModelNameOnAModelsDirWorkerIsRefused() {
    WorkerOptions options = worker(new JsonObject()).setModel("qwen");

    assertThatThrownBy(() -> options.validate("workers[0]")).hasMessageContaining(
        "workers[0].model is not used by a worker over a model directory");
  }

  @Test
  void perModelSettingsWithoutADirectoryAreRefused() {
    WorkerOptions options = new WorkerOptions(new JsonObject().put("engine", "llamacpp").put("llamacpp",
        new JsonObject().put("serverBin", "/bin/llama-server").put("modelPath", "/m.gguf")
            .put("models", new JsonArray().add(new JsonObject().put("name", "a")))));

    assertThatThrownBy(() -> options.validate("workers[0]")).hasMessageContaining(
        "workers[0].llamacpp.models (per-model settings) needs workers[0].llamacpp.modelsDir");
  }

  @Test
  void modelsOverRpcPoolIsOffByDefaultAndOnlyForAModelDirectory() {
    assertThat(worker(new JsonObject()).getLlamacpp().isModelsOverRpcPool()).isFalse();
    WorkerOptions on = worker(new JsonObject().put("modelsOverRpcPool", true));
    assertThatCode(() -> on.validate("workers[0]")).doesNotThrowAnyException();
    assertThat(new LlamaCppOptions(on.getLlamacpp().toJson()).isModelsOverRpcPool()).isTrue();
    WorkerOptions single = new WorkerOptions(new JsonObject().put("engine", "llamacpp").put("llamacpp",
        new JsonObject().put("serverBin", "/bin/llama-server").put("modelPath", "/m.gguf")
            .put("modelsOverRpcPool", true)));
    assertThatThrownBy(() -> single.validate("workers[0]")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("workers[0].llamacpp.modelsOverRpcPool applies to a model directory")
        .hasMessageContaining("remove modelsOverRpcPool");
  }
}
