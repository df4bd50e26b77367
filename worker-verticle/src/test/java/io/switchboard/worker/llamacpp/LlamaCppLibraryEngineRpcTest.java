package io.switchboard.worker.llamacpp;

import io.switchboard.protocol.ClusterMembers;
import io.switchboard.protocol.DiscoveryTrust;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.ModelCatalog;
import io.switchboard.protocol.ModelEntry;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.ResumeState;
import io.switchboard.protocol.RpcBackendRecord;
import io.switchboard.protocol.SamplingParams;
import io.switchboard.protocol.TraceContext;
import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.FreePorts;
import io.switchboard.testsupport.LlamaCppBinaries;
import io.switchboard.testsupport.LlamaCppServers;
import io.switchboard.worker.engine.OnContext;
import io.switchboard.worker.engine.RecordingSink;
import io.switchboard.worker.rpc.RpcPoolOptions;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.servicediscovery.Record;
import io.vertx.servicediscovery.ServiceDiscovery;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A model directory worker over an rpc pool of two real ggml-rpc-servers, announced as rpc-agents announce them
 * (cluster records, withdrawn when the server dies), with real llama-servers and tiny GGUFs written at test time:
 * models load over the pool (one at a time), the catalog carries the pool's device memory, and a model whose
 * rpc-server leaves is unloaded (idle) or stopped with an error for its requests (busy), then loaded again over what
 * is left.
 */
class LlamaCppLibraryEngineRpcTest {

  private static final ClusterMembers MEMBERS = nodeId -> "node-1".equals(nodeId) ? List.of("127.0.0.1") : List.of();
  private static Path cache;

  @TempDir
  Path dir;
  private Vertx vertx;
  private Context context;
  private ServiceDiscovery discovery;
  private LlamaCppLibraryEngine engine;
  private final List<Process> rpcServers = new ArrayList<>();
  private final List<Record> records = new ArrayList<>();
  private final List<String> endpoints = new ArrayList<>();
  private final List<Long> pids = new ArrayList<>();

  @BeforeAll
  static void writeModels() throws Exception {
    Path vocabs = LlamaCppBinaries.directory().getParent().resolve("models");
    cache = Files.createDirectories(Path.of("target", "models", "library").toAbsolutePath());
    for (String[] model : List.of(new String[] {"tiny-spm", "ggml-vocab-llama-spm.gguf", "11"},
        new String[] {"tiny-gpt2", "ggml-vocab-gpt-2.gguf", "12"})) {
      Path file = cache.resolve(model[0] + ".gguf");
      if (!Files.exists(file)) {
        TinyLlamaModel.write(vocabs.resolve(model[1]), file, Long.parseLong(model[2]));
      }
    }
  }

  private void start(int servers) throws Exception {
    for (String name : List.of("tiny-spm", "tiny-gpt2")) {
      Files.createSymbolicLink(dir.resolve(name + ".gguf"), cache.resolve(name + ".gguf"));
    }
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
    discovery = ServiceDiscovery.create(vertx);
    for (int i = 0; i < servers; i++) {
      int port = FreePorts.any();
      rpcServers.add(LlamaCppServers.rpcServer(port));
      RpcBackendRecord backend = new RpcBackendRecord("agent-" + port, "node-1", "127.0.0.1", port, "7.0.0",
          new JsonArray(), -1);
      records.add(discovery.publish(new Record().setType(RpcBackendRecord.RECORD_TYPE).setName(backend.recordName())
          .setMetadata(backend.toJson())).await(10, TimeUnit.SECONDS));
      endpoints.add(backend.endpoint());
    }
    endpoints.sort(null);
    LlamaCppOptions options = new LlamaCppOptions()
        .setServerBin(LlamaCppBinaries.directory().resolve("llama-server").toString())
        .setModelsDir(dir.toString()).setModelsMax(2).setIdleUnloadMs(0).setContextSize(256).setThreads(1)
        .setModelsOverRpcPool(true).setRestartDebounceMs(200)
        .setRpcPool(new RpcPoolOptions().setCheckIntervalMs(200));
    options.validate("workers[0].llamacpp");
    engine = OnContext.call(context, () -> new LlamaCppLibraryEngine(vertx, options, "lib-rpc", 1,
        DiscoveryTrust.unsigned(MEMBERS)));
    OnContext.call(context, engine::start).await(20, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    if (engine != null) {
      OnContext.call(context, engine::stop).await(20, TimeUnit.SECONDS);
    }
    if (discovery != null) {
      discovery.close();
    }
    if (vertx != null) {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
    for (Process process : rpcServers) {
      process.destroyForcibly().waitFor();
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
    return OnContext.call(context, engine::catalog);
  }

  private JsonObject statusOf(String model) {
    JsonArray models = OnContext.call(context, engine::status).getJsonArray("models");
    for (int i = 0; i < models.size(); i++) {
      JsonObject entry = models.getJsonObject(i);
      if (model.equals(entry.getString("name"))) {
        Long pid = entry.getLong("pid");
        if (pid != null && !pids.contains(pid)) {
          pids.add(pid);
        }
        return entry;
      }
    }
    throw new AssertionError("no model " + model);
  }

  /** The running llama-server's own command line: what it was really given. */
  private String commandLineOf(String model) throws Exception {
    long pid = statusOf(model).getLong("pid");
    return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8)
        .replace('\0', ' ');
  }

  private void catalogEventually(String what, Predicate<ModelCatalog> condition) throws Exception {
    Eventually.read(ofSeconds(20), what, () -> catalog(), condition);
  }

  /** What an rpc-agent does when its server dies: the server is gone and its record withdrawn. */
  private void killRpcServer(int index) throws Exception {
    rpcServers.get(index).destroyForcibly().waitFor();
    discovery.unpublish(records.get(index).getRegistration()).await(10, TimeUnit.SECONDS);
  }

  @Test
  void modelsLoadOverThePoolOneAtATimeAndTheCatalogCarriesItsMemory() throws Exception {
    start(2);
    ModelCatalog before = catalog();
    assertThat(before.rpcPool().members()).isEqualTo(2);
    assertThat(before.rpcPool().freeBytes()).as("the probe's device memory, summed").isPositive();
    assertThat(before.rpcPool().totalBytes()).isGreaterThanOrEqualTo(before.rpcPool().freeBytes());
    assertThat(before.freeBytes()).as("the room is the pool's").isEqualTo(before.rpcPool().freeBytes());
    ModelCatalog wire = ModelCatalog.fromJson(before.toJson());
    assertThat(wire.rpcPool()).isEqualTo(before.rpcPool());

    RecordingSink spm = generate("tiny-spm", 8, new RecordingSink()).awaitDone();
    assertThat(spm.error()).isNull();
    assertThat(spm.usage().completionTokens()).isEqualTo(8);
    assertThat(commandLineOf("tiny-spm")).contains("--rpc " + String.join(",", endpoints)).contains("-ngl 999");
    ModelCatalog loaded = catalog();
    assertThat(loaded.find("tiny-spm").overRpc()).isTrue();
    assertThat(loaded.rpcHolder().name()).isEqualTo("tiny-spm");
    assertThat(loaded.freeBytes()).as("an rpc-server serves one llama-server: no room while one holds it").isZero();
    assertThat(loaded.freeBytesAfterIdleUnload()).isEqualTo(before.rpcPool().freeBytes());
    assertThat(loaded.occupiedBytes()).as("a model over the pool holds none of the machine's budget").isZero();
    long spmPid = statusOf("tiny-spm").getLong("pid");

    // modelsMax is 2, but the pool takes one model: the idle one is unloaded for the next.
    RecordingSink gpt2 = generate("tiny-gpt2", 8, new RecordingSink()).awaitDone();
    assertThat(gpt2.error()).isNull();
    assertThat(gpt2.text()).isNotEqualTo(spm.text());
    assertThat(catalog().find("tiny-spm").state()).isEqualTo(ModelEntry.UNLOADED);
    assertThat(catalog().find("tiny-gpt2").state()).isEqualTo(ModelEntry.LOADED);
    assertThat(ProcessHandle.of(spmPid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    assertThat(commandLineOf("tiny-gpt2")).contains("--rpc " + String.join(",", endpoints));
  }

  @Test
  void anIdleModelWhoseRpcServerLeavesIsUnloadedAndTheNextRequestLoadsItOverWhatIsLeft() throws Exception {
    start(2);
    assertThat(generate("tiny-spm", 4, new RecordingSink()).awaitDone().error()).isNull();
    long pid = statusOf("tiny-spm").getLong("pid");
    String left = "127.0.0.1:" + records.get(0).getMetadata().getInteger("port");
    String kept = "127.0.0.1:" + records.get(1).getMetadata().getInteger("port");

    killRpcServer(0);

    catalogEventually("the model over the gone rpc-server unloaded", c -> c.find("tiny-spm").state()
        .equals(ModelEntry.UNLOADED) && c.rpcPool().members() == 1);
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    RecordingSink again = generate("tiny-spm", 4, new RecordingSink()).awaitDone();
    assertThat(again.error()).isNull();
    assertThat(commandLineOf("tiny-spm")).contains("--rpc " + kept).doesNotContain(left);
  }

  @Test
  void aBusyModelWhoseRpcServerLeavesEndsItsRequestWithAnErrorNamingItThenLoadsAgain() throws Exception {
    start(2);
    // A long answer held back by a client that does not read: the request stays in flight.
    RecordingSink held = generate("tiny-spm", 400, new RecordingSink(2));
    catalogEventually("tiny-spm streaming", c -> held.writeCount() >= 2);
    String left = "127.0.0.1:" + records.get(1).getMetadata().getInteger("port");

    killRpcServer(1);

    catalogEventually("the model failed", c -> c.find("tiny-spm").state().equals(ModelEntry.FAILED));
    // llama-server computing over the gone rpc-server aborts at once (before the pool's debounce): either way the
    // reason names the model, the worker and the rpc-server.
    assertThat(catalog().find("tiny-spm").reason()).contains("tiny-spm").contains("lib-rpc").contains(left);
    context.runOnContext(v -> held.release());
    held.awaitDone();
    assertThat(held.error()).as("the cut answer ends with an error, not as if complete").isNotNull();
    assertThat(held.finishReason()).isNull();

    RecordingSink again = generate("tiny-spm", 4, new RecordingSink()).awaitDone();
    assertThat(again.error()).isNull();
    assertThat(commandLineOf("tiny-spm")).doesNotContain(left).contains("--rpc 127.0.0.1:");
  }
}
