package io.switchboard.node;

import io.switchboard.worker.WorkerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NodeConfigLoaderTest {

  private static final NodeConfigLoader.Flags NO_FLAGS = NodeConfigLoader.Flags.NONE;

  @TempDir
  Path dir;

  private Path file(String name, String content) throws IOException {
    Path path = dir.resolve(name);
    Files.writeString(path, content);
    return path;
  }

  private static NodeConfigLoader.Flags config(Path file) {
    return new NodeConfigLoader.Flags(file, null, null, null, null);
  }

  private static NodeOptions load(Map<String, String> env) {
    return NodeConfigLoader.load(NO_FLAGS, env);
  }

  // ---- defaults

  @Test
  void apiKeysLimitsAndTlsComeFromTheEnvironment() {
    NodeOptions options = load(Map.of(
        "SWITCHBOARD_API_KEYS", "k1,k2;name=two;models=a|b;rpm=5",
        "SWITCHBOARD_GATEWAY_RATE_LIMITS_TOKENS_PER_MINUTE", "9000",
        "SWITCHBOARD_GATEWAY_LIMITS_MAX_MESSAGES", "10",
        "SWITCHBOARD_GATEWAY_LIMITS_REQUEST_READ_TIMEOUT_MS", "5000",
        "SWITCHBOARD_GATEWAY_LIMITS_CLIENT_STALL_TIMEOUT_MS", "15000",
        "SWITCHBOARD_GATEWAY_LOG_REQUESTS", "false"));
    assertThat(options.getGateway().isLogRequests()).isFalse();
    assertThat(options.getGateway().getApiKeys()).containsExactly("k1", "k2;name=two;models=a|b;rpm=5");
    assertThat(options.getGateway().getRateLimits().getTokensPerMinute()).isEqualTo(9000);
    assertThat(options.getGateway().getLimits().getMaxMessages()).isEqualTo(10);
    assertThat(options.getGateway().getLimits().getRequestReadTimeoutMs()).isEqualTo(5000);
    assertThat(options.getGateway().getLimits().getClientStallTimeoutMs()).isEqualTo(15000);
    assertThat(load(Map.of()).getGateway().getLimits().getClientStallTimeoutMs()).isEqualTo(30_000);
    assertThat(options.getGateway().getTls().enabled()).isFalse();
  }

  @Test
  void securitySettingsAreValidatedWithClearErrors() {
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GATEWAY_TLS_CERT_PATH", "/nonexistent/cert.pem")))
        .hasMessageContaining("gateway.tls.certPath and gateway.tls.keyPath go together");
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GATEWAY_TLS_CERT_PATH", "/nonexistent/cert.pem",
        "SWITCHBOARD_GATEWAY_TLS_KEY_PATH", "/nonexistent/key.pem")))
        .hasMessageContaining("cannot read PEM file '/nonexistent/cert.pem'");
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_CLUSTER_TLS_CERT_PATH", "/x.pem")))
        .hasMessageContaining("tlsCertPath, tlsKeyPath and tlsCaPath go together");
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GATEWAY_API_KEYS_FILE", "/nonexistent/keys")))
        .hasMessageContaining("gateway.apiKeysFile: cannot read '/nonexistent/keys'");
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GATEWAY_LIMITS_MAX_CONNECTIONS", "0")))
        .hasMessageContaining("gateway.limits.maxConnections must be >= 1");
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GATEWAY_RATE_LIMITS_WHEN_UNREACHABLE", "maybe")))
        .hasMessageContaining("gateway.rateLimits.whenUnreachable must be one of [allow, refuse]");
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GATEWAY_API_KEYS_FILE_CHECK_MS", "10")))
        .hasMessageContaining("gateway.apiKeysFileCheckMs must be >= 100");
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GATEWAY_LIMITS_CLIENT_STALL_TIMEOUT_MS", "50")))
        .hasMessageContaining("gateway.limits.clientStallTimeoutMs must be >= 100");
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GATEWAY_RATE_LIMITS_REQUESTS_PER_MINUTE", "-1")))
        .hasMessageContaining("gateway.rateLimits.requestsPerMinute must be between 0");
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GATEWAY_ADMIN_KEY", "sha256:1234")))
        .hasMessageContaining("64 hex digits");
  }

  @Test
  void aKeysFileThatHoldsNoKeyStopsTheNodeBeforeAnythingStarts() throws IOException {
    Path empty = file("keys-empty.txt", "");
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GATEWAY_API_KEYS_FILE", empty.toString())))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("gateway.apiKeysFile: " + empty + " holds no API key (it is empty)");
    Path comments = file("keys-comments.txt", "# nobody yet\n\n");
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GATEWAY_API_KEYS_FILE", comments.toString())))
        .hasMessageContaining("holds no API key (only blank and comment lines)");
    Path bad = file("keys-bad.txt", "good-key-123\nbad key\n");
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GATEWAY_API_KEYS_FILE", bad.toString())))
        .hasMessageContaining(bad + " line 2").hasMessageContaining("visible ASCII");
    Path good = file("keys-good.txt", "good-key-123;name=good\n");
    NodeOptions options = load(Map.of("SWITCHBOARD_GATEWAY_API_KEYS_FILE", good.toString(),
        "SWITCHBOARD_GATEWAY_API_KEYS_FILE_CHECK_MS", "500", "SWITCHBOARD_GATEWAY_RATE_LIMITS_WHEN_UNREACHABLE",
        "refuse"));
    assertThat(options.getGateway().getApiKeysFileCheckMs()).isEqualTo(500);
    NodeOptions bounded = load(Map.of("SWITCHBOARD_GATEWAY_LIMITS_MAX_IN_FLIGHT_BODY_BYTES", "8388608",
        "SWITCHBOARD_GATEWAY_RATE_LIMITS_CONCURRENT_REQUESTS", "12"));
    assertThat(bounded.getGateway().getLimits().getMaxInFlightBodyBytes()).isEqualTo(8_388_608);
    assertThat(bounded.getGateway().getRateLimits().getConcurrentRequests()).isEqualTo(12);
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GATEWAY_LIMITS_MAX_IN_FLIGHT_BODY_BYTES", "1000")))
        .hasMessageContaining("gateway.limits.maxInFlightBodyBytes (1000) must be at least gateway.maxBodyBytes");
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GATEWAY_RATE_LIMITS_CONCURRENT_REQUESTS", "-2")))
        .hasMessageContaining("gateway.rateLimits.concurrentRequests must be >= 0");
    assertThat(options.getGateway().getRateLimits().refusesWhenUnreachable()).isTrue();
  }

  @Test
  void defaultsRunAGatewayAndOneMockWorker() {
    NodeOptions options = load(Map.of());

    assertThat(options.getRoles()).containsExactly("gateway", "worker");
    assertThat(options.runsGateway()).isTrue();
    assertThat(options.runsWorkers()).isTrue();
    assertThat(options.getGateway().getHttpPort()).isEqualTo(8080);
    assertThat(options.getGateway().getHost()).isEqualTo("127.0.0.1");
    assertThat(options.getCluster().getMembers()).containsExactly("127.0.0.1");
    assertThat(options.getLogFormat()).isEqualTo("json");
    assertThat(options.getWorkers()).hasSize(1);
    WorkerOptions worker = options.getWorkers().get(0);
    assertThat(worker.getModel()).isEqualTo("mock-llm");
    assertThat(worker.getEngine()).isEqualTo("mocker");
    assertThat(worker.getId()).isNull();
  }

  @Test
  void unrelatedEnvironmentVariablesAreIgnored() {
    NodeOptions options = load(Map.of("PATH", "/usr/bin", "SWITCHBOARD_NOT_A_SETTING", "x"));

    assertThat(options.toJson()).isEqualTo(load(Map.of()).toJson());
  }

  // ---- config files

  @Test
  void yamlFileOverridesKeysAndItsWorkersReplaceTheDefaultWorker() throws IOException {
    Path yaml = file("node.yaml", """
        node:
          roles: [worker]
          logFormat: text
        gateway:
          httpPort: 9090
        cluster:
          members: [10.0.0.1, "10.0.0.2:5702"]
        workers:
          - model: llama
            slots: 2
            mocker:
              seed: 7
              decodeTokensPerSecond: 120
          - id: second
            model: qwen
        """);

    NodeOptions options = NodeConfigLoader.load(config(yaml), Map.of());

    assertThat(options.getRoles()).containsExactly("worker");
    assertThat(options.getLogFormat()).isEqualTo("text");
    assertThat(options.getGateway().getHttpPort()).isEqualTo(9090);
    assertThat(options.getGateway().getHost()).as("a key the file does not set keeps its default")
        .isEqualTo("127.0.0.1");
    assertThat(options.getCluster().getMembers()).containsExactly("10.0.0.1", "10.0.0.2:5702");
    assertThat(options.getCluster().getPort()).isEqualTo(5701);
    assertThat(options.getWorkers()).hasSize(2);
    WorkerOptions first = options.getWorkers().get(0);
    assertThat(first.getModel()).isEqualTo("llama");
    assertThat(first.getSlots()).isEqualTo(2);
    assertThat(first.getEngine()).isEqualTo("mocker");
    assertThat(first.getMaxQueue()).isEqualTo(WorkerOptions.DEFAULT_MAX_QUEUE);
    assertThat(first.getContextLength()).isEqualTo(WorkerOptions.DEFAULT_CONTEXT_LENGTH);
    assertThat(first.getMocker().getSeed()).isEqualTo(7);
    assertThat(first.getMocker().getDecodeTokensPerSecond()).isEqualTo(120.0);
    assertThat(first.getMocker().getMaxAnswerTokens()).isEqualTo(64);
    WorkerOptions second = options.getWorkers().get(1);
    assertThat(second.getId()).isEqualTo("second");
    assertThat(second.getModel()).isEqualTo("qwen");
    assertThat(second.getSlots()).isEqualTo(WorkerOptions.DEFAULT_SLOTS);
    assertThat(second.getMocker().getSeed()).isEqualTo(42);
  }

  @Test
  void jsonFilesWorkToo() throws IOException {
    Path json = file("node.json", new JsonObject()
        .put("gateway", new JsonObject().put("httpPort", 8181).put("maxAttempts", 5))
        .put("workers", new JsonArray().add(new JsonObject().put("model", "from-json").put("maxQueue", 3)))
        .encodePrettily());

    NodeOptions options = NodeConfigLoader.load(config(json), Map.of());

    assertThat(options.getGateway().getHttpPort()).isEqualTo(8181);
    assertThat(options.getGateway().getMaxAttempts()).isEqualTo(5);
    assertThat(options.getWorkers()).singleElement().satisfies(worker -> {
      assertThat(worker.getModel()).isEqualTo("from-json");
      assertThat(worker.getMaxQueue()).isEqualTo(3);
      assertThat(worker.getSlots()).isEqualTo(WorkerOptions.DEFAULT_SLOTS);
    });
  }

  @Test
  void theFileCanBeNamedByTheEnvironment() throws IOException {
    Path yaml = file("env.yaml", "gateway:\n  httpPort: 9191\n");

    NodeOptions options = load(Map.of("SWITCHBOARD_CONFIG", yaml.toString()));

    assertThat(options.getGateway().getHttpPort()).isEqualTo(9191);
  }

  @Test
  void theConfigFlagBeatsTheEnvironmentsFile() throws IOException {
    Path fromEnv = file("env.yaml", "gateway:\n  httpPort: 9191\n");
    Path fromFlag = file("flag.yaml", "gateway:\n  httpPort: 9292\n");

    NodeOptions options = NodeConfigLoader.load(config(fromFlag), Map.of("SWITCHBOARD_CONFIG", fromEnv.toString()));

    assertThat(options.getGateway().getHttpPort()).isEqualTo(9292);
  }

  @Test
  void theShippedConfigFilesLoad() {
    Path conf = Path.of("..", "conf");

    NodeOptions embedded = NodeConfigLoader.load(config(conf.resolve("embedded.yaml")), Map.of());
    NodeOptions workerOnly = NodeConfigLoader.load(config(conf.resolve("worker-mock.yaml")), Map.of());

    assertThat(embedded.toJson()).as("embedded.yaml spells out the built-in defaults")
        .isEqualTo(load(Map.of()).toJson());
    assertThat(workerOnly.getRoles()).containsExactly("worker");
    assertThat(workerOnly.getWorkers()).singleElement()
        .satisfies(worker -> assertThat(worker.getModel()).isEqualTo("mock-llm"));
  }

  @Test
  void theShippedBackendExamplesLoadAsOpenAiWorkers() {
    for (String kind : List.of("vllm", "sglang", "tgi", "trtllm", "ollama", "llama-server")) {
      NodeOptions options = NodeConfigLoader.load(config(Path.of("..", "conf", "backend-" + kind + ".yaml")), Map.of());
      assertThat(options.getWorkers()).as(kind).singleElement().satisfies(worker -> {
        assertThat(worker.getEngine()).isEqualTo("openai");
        assertThat(worker.getOpenai().getUrl()).startsWith("http://127.0.0.1:");
      });
    }
    NodeOptions withKey = NodeConfigLoader.load(config(Path.of("..", "conf", "backend-vllm.yaml")),
        Map.of("SWITCHBOARD_WORKERS_0_OPENAI_API_KEY", "sk-1", "SWITCHBOARD_WORKERS_0_OPENAI_ALIASES", "a=b,c=d"));
    assertThat(withKey.getWorkers().get(0).getOpenai().getApiKey()).isEqualTo("sk-1");
    assertThat(withKey.getWorkers().get(0).getOpenai().getAliases()).containsExactly("a=b", "c=d");
  }

  @Test
  void backendFlagsMakeOneOpenAiWorkerEach() {
    NodeOptions options = NodeConfigLoader.load(new NodeConfigLoader.Flags(null, null, null, null, null, null, null,
        null, null, List.of("http://10.0.0.5:8000", "http://10.0.0.6:30000/v1")), Map.of());
    assertThat(options.getWorkers()).hasSize(2);
    assertThat(options.getWorkers()).allSatisfy(worker -> assertThat(worker.getEngine()).isEqualTo("openai"));
    assertThat(options.getWorkers().get(1).getOpenai().baseUri().toString()).isEqualTo("http://10.0.0.6:30000");

    assertThatThrownBy(() -> NodeConfigLoader.load(new NodeConfigLoader.Flags(null, null, null, null, null, null,
        null, null, null, List.of("10.0.0.5:8000")), Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("workers[0].openai.url must be http(s)://");
    assertThatThrownBy(() -> NodeConfigLoader.load(config(file("bad-openai.yaml",
        "workers:\n  - engine: openai\n    model: mine\n    openai:\n      url: http://h:1\n")), Map.of()))
        .hasMessageContaining("workers[0].model is not used by the openai engine");
  }

  @Test
  void theModelsDirFlagMakesALlamaCppWorkerOverTheDirectoryWithItsSettingsFromFileAndEnvironment()
      throws IOException {
    Path models = Files.createDirectories(dir.resolve("models"));
    NodeOptions options = NodeConfigLoader.load(new NodeConfigLoader.Flags(config(file("models.yaml",
        "workers:\n  - llamacpp:\n      modelsMax: 3\n      models:\n        - name: qwen\n          contextSize: 8192\n"
            + "          aliases: [chat]\n")).config(), null, null, null, null, null, null, "/bin/llama-server", null,
        null, models), Map.of("SWITCHBOARD_WORKERS_0_LLAMACPP_IDLE_UNLOAD_MS", "60000",
        "SWITCHBOARD_WORKERS_0_LLAMACPP_MODELS_0_CONTEXT_SIZE", "16384",
        "SWITCHBOARD_WORKERS_0_LLAMACPP_MEMORY_BUDGET_MB", "24576",
        "SWITCHBOARD_WORKERS_0_LLAMACPP_LOAD_RETRY_BACKOFF_MS", "5000",
        "SWITCHBOARD_WORKERS_0_LLAMACPP_MODELS_OVER_RPC_POOL", "true"));

    WorkerOptions worker = options.getWorkers().get(0);
    assertThat(worker.getEngine()).isEqualTo("llamacpp");
    assertThat(worker.announcedModel()).isEmpty();
    assertThat(worker.getLlamacpp().getModelsDir()).isEqualTo(models.toAbsolutePath().toString());
    assertThat(worker.getLlamacpp().getModelsMax()).isEqualTo(3);
    assertThat(worker.getLlamacpp().getIdleUnloadMs()).isEqualTo(60_000);
    assertThat(worker.getLlamacpp().getMemoryBudgetMb()).isEqualTo(24_576);
    assertThat(worker.getLlamacpp().getLoadRetryBackoffMs()).isEqualTo(5000);
    assertThat(worker.getLlamacpp().isModelsOverRpcPool()).isTrue();
    assertThat(worker.getLlamacpp().getModels().get(0).getContextSize()).isEqualTo(16384);
    assertThat(worker.getLlamacpp().getModels().get(0).getAliases()).containsExactly("chat");
    assertThat(NodeConfigLoader.environmentNames(new NodeOptions().toJson()))
        .containsKeys("SWITCHBOARD_WORKERS_0_LLAMACPP_MODELS_DIR", "SWITCHBOARD_WORKERS_0_LLAMACPP_MODELS_MAX",
            "SWITCHBOARD_WORKERS_0_LLAMACPP_IDLE_UNLOAD_MS", "SWITCHBOARD_WORKERS_0_LLAMACPP_MAX_LISTED_MODELS",
            "SWITCHBOARD_WORKERS_0_LLAMACPP_MEMORY_BUDGET_MB", "SWITCHBOARD_WORKERS_0_LLAMACPP_LOAD_RETRY_BACKOFF_MS",
            "SWITCHBOARD_WORKERS_0_LLAMACPP_MODELS_OVER_RPC_POOL");
  }

  @Test
  void modelsDirMistakesAreRefusedClearly() throws IOException {
    Path models = Files.createDirectories(dir.resolve("models"));
    assertThatThrownBy(() -> NodeConfigLoader.load(new NodeConfigLoader.Flags(null, null, null, null, null, null,
        null, "/bin/llama-server", dir.resolve("m.gguf"), null, models), Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("--models-dir and --model");
    assertThatThrownBy(() -> NodeConfigLoader.load(new NodeConfigLoader.Flags(null, null, null, null, null, null,
        null, "/bin/llama-server", null, null, dir.resolve("absent")), Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("workers[0].llamacpp.modelsDir is not a directory");
    assertThatThrownBy(() -> NodeConfigLoader.load(new NodeConfigLoader.Flags(null, null, null, null, null, null,
        null, null, null, null, models), Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("modelsDir needs serverBin");
    assertThatThrownBy(() -> NodeConfigLoader.load(new NodeConfigLoader.Flags(null, null, null, null, null, null,
        null, "/bin/llama-server", null, null, models), Map.of("SWITCHBOARD_WORKERS_0_LLAMACPP_MODELS_MAX", "none")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("SWITCHBOARD_WORKERS_0_LLAMACPP_MODELS_MAX");
    assertThatThrownBy(() -> NodeConfigLoader.load(new NodeConfigLoader.Flags(null, null, null, null, null, null,
        null, "/bin/llama-server", null, null, models), Map.of("SWITCHBOARD_WORKERS_0_LLAMACPP_MODELS", "qwen")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("workers[0].llamacpp.models[0] must be a mapping");
    assertThatThrownBy(() -> NodeConfigLoader.load(new NodeConfigLoader.Flags(null, null, null, null, null, null,
        null, "/bin/llama-server", null, null, models),
        Map.of("SWITCHBOARD_WORKERS_0_LLAMACPP_MEMORY_BUDGET_MB", "-5")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("workers[0].llamacpp.memoryBudgetMb must be between 0");
    assertThatThrownBy(() -> NodeConfigLoader.load(new NodeConfigLoader.Flags(null, null, null, null, null, null,
        null, "/bin/llama-server", null, null, models),
        Map.of("SWITCHBOARD_WORKERS_0_LLAMACPP_LOAD_RETRY_BACKOFF_MS", "-1")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("workers[0].llamacpp.loadRetryBackoffMs must be between 0");
    assertThatThrownBy(() -> NodeConfigLoader.load(new NodeConfigLoader.Flags(null, null, null, null, null, null,
        null, "/bin/llama-server", null, null, models),
        Map.of("SWITCHBOARD_WORKERS_0_LLAMACPP_MODELS_OVER_RPC_POOL", "sometimes")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("SWITCHBOARD_WORKERS_0_LLAMACPP_MODELS_OVER_RPC_POOL");
  }

  @Test
  void anEmptyFileKeepsTheDefaults() throws IOException {
    NodeOptions options = NodeConfigLoader.load(config(file("empty.yaml", "")), Map.of());

    assertThat(options.toJson()).isEqualTo(load(Map.of()).toJson());
  }

  @Test
  void aMissingFileIsAConfigError() {
    Path missing = dir.resolve("nope.yaml");

    assertThatThrownBy(() -> NodeConfigLoader.load(config(missing), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("nope.yaml");
  }

  @Test
  void aFileThatIsNotAMappingIsAConfigError() throws IOException {
    Path list = file("list.yaml", "- a\n- b\n");
    Path broken = file("broken.yaml", "gateway: [unclosed\n");

    assertThatThrownBy(() -> NodeConfigLoader.load(config(list), Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("mapping");
    assertThatThrownBy(() -> NodeConfigLoader.load(config(broken), Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("broken.yaml");
  }

  @Test
  void anUnknownKeyInASectionIsNamed() throws IOException {
    Path yaml = file("typo.yaml", "gateway:\n  htpPort: 9000\n");

    assertThatThrownBy(() -> NodeConfigLoader.load(config(yaml), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("gateway.htpPort")
        .hasMessageContaining("httpPort");
  }

  @Test
  void anUnknownKeyInAWorkerIsNamed() throws IOException {
    Path yaml = file("typo.yaml", "workers:\n  - model: m\n    mocker:\n      sed: 7\n");

    assertThatThrownBy(() -> NodeConfigLoader.load(config(yaml), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("workers[0].mocker.sed");
  }

  @Test
  void anUnknownSectionIsNamed() throws IOException {
    Path yaml = file("typo.yaml", "gatway:\n  httpPort: 9000\n");

    assertThatThrownBy(() -> NodeConfigLoader.load(config(yaml), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("gatway");
  }

  @Test
  void aWrongTypeIsNamed() throws IOException {
    Path yaml = file("type.yaml", "gateway:\n  httpPort: \"abc\"\n");

    assertThatThrownBy(() -> NodeConfigLoader.load(config(yaml), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("gateway.httpPort")
        .hasMessageContaining("abc");
  }

  @Test
  void aSectionThatIsNotAMappingIsNamed() throws IOException {
    Path gateway = file("gateway.yaml", "gateway: 8080\n");
    Path workers = file("workers.yaml", "workers:\n  model: m\n");

    assertThatThrownBy(() -> NodeConfigLoader.load(config(gateway), Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("gateway");
    assertThatThrownBy(() -> NodeConfigLoader.load(config(workers), Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("workers");
  }

  @Test
  void anInvalidValueInTheFileFailsValidationNamingTheKey() throws IOException {
    Path yaml = file("invalid.yaml", "workers:\n  - model: m\n  - model: n\n    slots: 0\n");

    assertThatThrownBy(() -> NodeConfigLoader.load(config(yaml), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("workers[1].slots");
  }

  @Test
  void aWholeNumberTooLargeForTheSettingIsRefusedNotWrapped() throws IOException {
    // 4294975296 is 2^32 + 8000: read as a 32-bit int it would silently become port 8000.
    Path port = file("port.yaml", "gateway:\n  httpPort: 4294975296\n");
    Path slots = file("slots.yaml", "workers:\n  - slots: 4294967297\n");

    assertThatThrownBy(() -> NodeConfigLoader.load(config(port), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("gateway.httpPort")
        .hasMessageContaining("4294975296");
    assertThatThrownBy(() -> NodeConfigLoader.load(config(slots), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("workers[0].slots");
  }

  @Test
  void aFractionForAWholeNumberSettingIsRefusedNotTruncated() throws IOException {
    Path port = file("port.yaml", "gateway:\n  httpPort: 8080.9\n");
    Path timeout = file("timeout.yaml", "node:\n  shutdownTimeoutMs: 1500.5\n");

    assertThatThrownBy(() -> NodeConfigLoader.load(config(port), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("gateway.httpPort");
    assertThatThrownBy(() -> NodeConfigLoader.load(config(timeout), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("node.shutdownTimeoutMs");
  }

  @Test
  void wholeNumbersInAnyNumericFormStillWork() throws IOException {
    Path yaml = file("numbers.yaml", "gateway:\n  httpPort: 9000.0\nnode:\n  shutdownTimeoutMs: 5000000000\n"
        + "workers:\n  - mocker:\n      decodeTokensPerSecond: 20\n");

    NodeOptions options = NodeConfigLoader.load(config(yaml), Map.of());

    assertThat(options.getGateway().getHttpPort()).isEqualTo(9000);
    assertThat(options.getShutdownTimeoutMs()).isEqualTo(5_000_000_000L);
    assertThat(options.getWorkers().get(0).getMocker().getDecodeTokensPerSecond()).isEqualTo(20.0);
  }

  // ---- environment

  @Test
  void routerBenchConfigGivesEachPolicyItsModelAndFourWorkers() {
    NodeOptions options = NodeConfigLoader.load(config(Path.of("..", "conf", "router-bench.yaml")), Map.of());

    assertThat(options.getWorkers()).hasSize(24);
    for (String policy : List.of("prefix-aware", "round-robin", "random", "least-loaded", "power-of-two",
        "session-affinity")) {
      assertThat(options.getGateway().policyOf("bench-" + policy)).isEqualTo(policy);
      assertThat(options.getWorkers().stream().filter(w -> w.getModel().equals("bench-" + policy))).hasSize(4);
    }
    assertThat(options.getWorkers().get(23).getMocker().getKvCacheBlocks()).isEqualTo(1024);
  }

  @Test
  void routingPoliciesAndRouterSettingsComeFromTheEnvironment() {
    NodeOptions options = NodeConfigLoader.load(NodeConfigLoader.Flags.NONE, Map.of(
        "SWITCHBOARD_GATEWAY_ROUTING_POLICY", "least-loaded",
        "SWITCHBOARD_GATEWAY_MODEL_POLICIES", "chat=session-affinity,code=prefix-aware",
        "SWITCHBOARD_GATEWAY_ROUTER_BALANCE_ABS_THRESHOLD", "3",
        "SWITCHBOARD_GATEWAY_ROUTER_SHARE_PREFIXES", "false"));

    assertThat(options.getGateway().policyOf("chat")).isEqualTo("session-affinity");
    assertThat(options.getGateway().policyOf("code")).isEqualTo("prefix-aware");
    assertThat(options.getGateway().policyOf("other")).isEqualTo("least-loaded");
    assertThat(options.getGateway().getRouter().getBalanceAbsThreshold()).isEqualTo(3);
    assertThat(options.getGateway().getRouter().isSharePrefixes()).isFalse();
    assertThatThrownBy(() -> NodeConfigLoader.load(NodeConfigLoader.Flags.NONE,
        Map.of("SWITCHBOARD_GATEWAY_MODEL_POLICIES", "chat=fastest")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("gateway.modelPolicies");
  }

  @Test
  void theEnvironmentOverridesTheFile() throws IOException {
    Path yaml = file("node.yaml", "gateway:\n  httpPort: 9090\n  maxAttempts: 2\n");

    NodeOptions options = NodeConfigLoader.load(config(yaml), Map.of("SWITCHBOARD_GATEWAY_HTTP_PORT", "9000"));

    assertThat(options.getGateway().getHttpPort()).isEqualTo(9000);
    assertThat(options.getGateway().getMaxAttempts()).isEqualTo(2);
  }

  @Test
  void theHttpPortAliasWorks() {
    assertThat(load(Map.of("SWITCHBOARD_HTTP_PORT", "9001")).getGateway().getHttpPort()).isEqualTo(9001);
  }

  @Test
  void theFullVariableBeatsItsAlias() {
    NodeOptions options = load(Map.of("SWITCHBOARD_HTTP_PORT", "9001", "SWITCHBOARD_GATEWAY_HTTP_PORT", "9002"));

    assertThat(options.getGateway().getHttpPort()).isEqualTo(9002);
  }

  @Test
  void theRolesAndLogFormatAliasesWork() {
    NodeOptions options = load(Map.of("SWITCHBOARD_ROLES", "gateway", "SWITCHBOARD_LOG_FORMAT", "text"));

    assertThat(options.getRoles()).containsExactly("gateway");
    assertThat(options.runsWorkers()).isFalse();
    assertThat(options.getLogFormat()).isEqualTo("text");
  }

  @Test
  void theTransportDefaultsToAutoAndTakesItsVariable() {
    assertThat(load(Map.of()).getTransport()).isEqualTo("auto");
    assertThat(load(Map.of("SWITCHBOARD_NODE_TRANSPORT", "epoll")).getTransport()).isEqualTo("epoll");
  }

  @Test
  void eventLoopsDefaultToAutoAndTakeTheirVariable() {
    assertThat(load(Map.of()).getEventLoopsSetting()).isEqualTo("auto");
    assertThat(load(Map.of()).getEventLoops())
        .isEqualTo(NodeOptions.autoEventLoops(Runtime.getRuntime().availableProcessors()));
    assertThat(load(Map.of("SWITCHBOARD_NODE_EVENT_LOOPS", "4")).getEventLoops()).isEqualTo(4);
    assertThat(load(Map.of("SWITCHBOARD_NODE_EVENT_LOOPS", "auto")).getEventLoopsSetting()).isEqualTo("auto");
  }

  @Test
  void autoLeavesOneCoreAndNeverGoesBelowOneLoop() {
    assertThat(NodeOptions.autoEventLoops(1)).isEqualTo(1);
    assertThat(NodeOptions.autoEventLoops(2)).isEqualTo(1);
    assertThat(NodeOptions.autoEventLoops(4)).isEqualTo(3);
    assertThat(NodeOptions.autoEventLoops(32)).isEqualTo(31);
  }

  @Test
  void eventLoopsThatAreNeitherAutoNorANumberAreRefusedWithTheChoices() {
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_NODE_EVENT_LOOPS", "many")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("node.eventLoops must be 'auto' or a number between 1 and 1024, got 'many'");
  }

  @Test
  void eventLoopsOutOfRangeAreRefusedWithTheRange() {
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_NODE_EVENT_LOOPS", "0")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("node.eventLoops must be between 1 and 1024, got 0");
  }

  @Test
  void anUnknownTransportIsNamedWithTheChoices() {
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_NODE_TRANSPORT", "kqueue")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("node.transport must be one of auto, io_uring, epoll, nio, got 'kqueue'");
  }

  @Test
  void listsAreCommaSeparated() {
    assertThat(load(Map.of("SWITCHBOARD_CLUSTER_MEMBERS", "a,b")).getCluster().getMembers())
        .containsExactly("a", "b");
    assertThat(load(Map.of("SWITCHBOARD_CLUSTER_MEMBERS", " a , b:5702 ,")).getCluster().getMembers())
        .containsExactly("a", "b:5702");
  }

  @Test
  void workerSettingsHaveIndexedVariables() {
    NodeOptions options = load(Map.of("SWITCHBOARD_WORKERS_0_MOCKER_SEED", "7", "SWITCHBOARD_WORKERS_0_ID", "w-0",
        "SWITCHBOARD_WORKERS_0_MOCKER_DECODE_TOKENS_PER_SECOND", "12.5"));

    WorkerOptions worker = options.getWorkers().get(0);
    assertThat(worker.getMocker().getSeed()).isEqualTo(7);
    assertThat(worker.getId()).isEqualTo("w-0");
    assertThat(worker.getMocker().getDecodeTokensPerSecond()).isEqualTo(12.5);
  }

  @Test
  void variablesReachEveryWorkerTheFileDefines() throws IOException {
    Path yaml = file("two.yaml", "workers:\n  - model: a\n  - model: b\n");

    NodeOptions options = NodeConfigLoader.load(config(yaml), Map.of("SWITCHBOARD_WORKERS_1_SLOTS", "3"));

    assertThat(options.getWorkers().get(0).getSlots()).isEqualTo(WorkerOptions.DEFAULT_SLOTS);
    assertThat(options.getWorkers().get(1).getSlots()).isEqualTo(3);
  }

  @Test
  void aBadNumberInTheEnvironmentNamesTheVariable() {
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GATEWAY_HTTP_PORT", "eighty")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("SWITCHBOARD_GATEWAY_HTTP_PORT")
        .hasMessageContaining("eighty");
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_WORKERS_0_MOCKER_BATCH_SLOWDOWN", "lots")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("SWITCHBOARD_WORKERS_0_MOCKER_BATCH_SLOWDOWN");
  }

  @Test
  void aNumberTooLargeForTheSettingInTheEnvironmentIsRefusedNotWrapped() {
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GATEWAY_HTTP_PORT", "4294975296")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("SWITCHBOARD_GATEWAY_HTTP_PORT");
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_WORKERS_0_SLOTS", "4294967297")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("SWITCHBOARD_WORKERS_0_SLOTS");
    assertThat(load(Map.of("SWITCHBOARD_NODE_SHUTDOWN_TIMEOUT_MS", "5000000000")).getShutdownTimeoutMs())
        .isEqualTo(5_000_000_000L);
  }

  @Test
  void anInvalidRoleListsTheAllowedRoles() {
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_NODE_ROLES", "gateway,router")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("router")
        .hasMessageContaining("node.roles")
        .hasMessageContaining("gateway")
        .hasMessageContaining("worker");
  }

  @Test
  void noRolesAtAllIsRefused() {
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_ROLES", " , ")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("node.roles");
  }

  @Test
  void theRequestPlaneAndTheGrpcServerComeFromFileAndEnvironment() throws IOException {
    Path yaml = file("grpc.yaml", "gateway:\n  requestPlane: grpc\ngrpc:\n  host: 0.0.0.0\n  port: 7443\n");

    NodeOptions options = NodeConfigLoader.load(config(yaml),
        Map.of("SWITCHBOARD_GRPC_ADVERTISED_HOST", "10.0.0.5", "SWITCHBOARD_GRPC_PORT", "7444",
            "SWITCHBOARD_CLUSTER_INSECURE", "true"));

    assertThat(options.getGateway().getRequestPlane()).isEqualTo("grpc");
    assertThat(options.getGrpc().getHost()).isEqualTo("0.0.0.0");
    assertThat(options.getGrpc().getPort()).isEqualTo(7444);
    assertThat(options.getGrpc().publishedHost()).isEqualTo("10.0.0.5");
    assertThat(load(Map.of("SWITCHBOARD_GATEWAY_REQUEST_PLANE", "grpc")).getGateway().getRequestPlane())
        .isEqualTo("grpc");
  }

  @Test
  void theGrpcPlaneConfigIsTheEmbeddedDefaultOnGrpc() {
    NodeOptions grpc = NodeConfigLoader.load(config(Path.of("..", "conf", "grpc-plane.yaml")), Map.of());

    assertThat(grpc.getGateway().getRequestPlane()).isEqualTo("grpc");
    assertThat(grpc.getRoles()).containsExactly("gateway", "worker");
    assertThat(grpc.getWorkers()).singleElement()
        .satisfies(worker -> assertThat(worker.getModel()).isEqualTo("mock-llm"));
    assertThat(load(Map.of()).getGateway().getRequestPlane()).isEqualTo("eventbus");
  }

  @Test
  void anUnknownRequestPlaneListsTheAllowedOnes() {
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GATEWAY_REQUEST_PLANE", "nats")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("gateway.requestPlane")
        .hasMessageContaining("eventbus")
        .hasMessageContaining("grpc")
        .hasMessageContaining("nats");
  }

  @Test
  void aGrpcServerOnEveryInterfaceMustSayWhichAddressToPublish() {
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GRPC_HOST", "0.0.0.0")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("grpc.advertisedHost");
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GRPC_PORT", "70000")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("grpc.port");
  }

  @Test
  void thePlanesMessageLimitMustCarryEveryBodyTheGatewayAccepts() {
    assertThat(load(Map.of()).getGrpc().getMaxMessageBytes()).isEqualTo(16 * 1024 * 1024);
    assertThat(load(Map.of("SWITCHBOARD_GRPC_MAX_MESSAGE_BYTES", "4194304")).getGrpc().getMaxMessageBytes())
        .isEqualTo(4 * 1024 * 1024);
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GRPC_MAX_MESSAGE_BYTES", "1000")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("grpc.maxMessageBytes must be >= 1048576");
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GATEWAY_MAX_BODY_BYTES", "16777216")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("grpc.maxMessageBytes 16777216 cannot carry a request of gateway.maxBodyBytes 16777216")
        .hasMessageContaining("at least 33619968");
    // A worker-only node checks no bodies: its own gateway settings do not apply.
    assertThat(load(Map.of("SWITCHBOARD_ROLES", "worker", "SWITCHBOARD_GATEWAY_MAX_BODY_BYTES", "16777216"))
        .getGrpc().getMaxMessageBytes()).isEqualTo(16 * 1024 * 1024);
  }

  @Test
  void fieldsAWorkerLetsThroughComeFromTheEnvironment() {
    NodeOptions options = NodeConfigLoader.load(config(Path.of("..", "conf", "backend-vllm.yaml")),
        Map.of("SWITCHBOARD_WORKERS_0_OPENAI_PASS_FIELDS", "priority,min_tokens"));
    assertThat(options.getWorkers().get(0).getOpenai().getPassFields()).containsExactly("priority", "min_tokens");
    assertThat(load(Map.of("SWITCHBOARD_WORKERS_0_LLAMACPP_PASS_FIELDS", "lora")).getWorkers().get(0).getLlamacpp()
        .getPassFields()).containsExactly("lora");
  }

  @Test
  void anOutOfRangeValueFromTheEnvironmentFailsValidation() {
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GATEWAY_HTTP_PORT", "70000")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("gateway.httpPort");
  }

  // ---- flags

  @Test
  void flagsBeatTheEnvironment() {
    NodeConfigLoader.Flags flags = new NodeConfigLoader.Flags(null, List.of("gateway"), 7000, "10.1.1.1",
        List.of("10.1.1.2", "10.1.1.3"));
    Map<String, String> env = Map.of(
        "SWITCHBOARD_GATEWAY_HTTP_PORT", "9000",
        "SWITCHBOARD_ROLES", "worker",
        "SWITCHBOARD_CLUSTER_HOST", "10.9.9.9",
        "SWITCHBOARD_CLUSTER_MEMBERS", "10.9.9.8",
        "SWITCHBOARD_CLUSTER_INSECURE", "true");

    NodeOptions options = NodeConfigLoader.load(flags, env);

    assertThat(options.getGateway().getHttpPort()).isEqualTo(7000);
    assertThat(options.getRoles()).containsExactly("gateway");
    assertThat(options.getCluster().getHost()).isEqualTo("10.1.1.1");
    assertThat(options.getCluster().getMembers()).containsExactly("10.1.1.2", "10.1.1.3");
  }

  // ---- the cluster plane beyond loopback

  @Test
  void aClusterHostBeyondLoopbackWithoutTlsIsRefusedNamingWhatToSet() {
    NodeConfigLoader.Flags flags = new NodeConfigLoader.Flags(null, null, null, "10.0.0.5", List.of("10.0.0.5"));

    assertThatThrownBy(() -> NodeConfigLoader.load(flags, Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("cluster.host 10.0.0.5 is not a loopback address, and cluster TLS is off")
        .hasMessageContaining("cluster.tlsCertPath").hasMessageContaining("cluster.tlsKeyPath")
        .hasMessageContaining("cluster.tlsCaPath").hasMessageContaining("docs/security.md")
        .hasMessageContaining("cluster.insecure: true").hasMessageContaining("SWITCHBOARD_CLUSTER_INSECURE=true");
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_CLUSTER_HOST", "0.0.0.0")))
        .hasMessageContaining("cluster.host 0.0.0.0 is not a loopback address");
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_CLUSTER_HOST", "node-a.lan")))
        .as("a name other than localhost is not resolved: it counts as beyond loopback")
        .hasMessageContaining("cluster.host node-a.lan");
  }

  @Test
  void aGrpcPlaneBeyondLoopbackCountsOnlyOnANodeThatServesIt() {
    Map<String, String> env = Map.of("SWITCHBOARD_GRPC_HOST", "0.0.0.0", "SWITCHBOARD_GRPC_ADVERTISED_HOST",
        "10.0.0.5");

    assertThatThrownBy(() -> load(env)).hasMessageContaining("grpc.host 0.0.0.0 is not a loopback address");
    Map<String, String> gatewayOnly = new java.util.HashMap<>(env);
    gatewayOnly.put("SWITCHBOARD_ROLES", "gateway");
    assertThat(load(gatewayOnly).getGrpc().getHost()).as("a gateway-only node runs no gRPC server")
        .isEqualTo("0.0.0.0");
    Map<String, String> both = new java.util.HashMap<>(env);
    both.put("SWITCHBOARD_CLUSTER_HOST", "10.0.0.5");
    assertThatThrownBy(() -> load(both))
        .hasMessageContaining("cluster.host 10.0.0.5 and grpc.host 0.0.0.0 are not loopback addresses");
  }

  @Test
  void clusterInsecureOrClusterTlsLetsANodeListenBeyondLoopback() throws IOException {
    NodeOptions insecure = load(Map.of("SWITCHBOARD_CLUSTER_HOST", "10.0.0.5", "SWITCHBOARD_CLUSTER_INSECURE", "true"));
    assertThat(insecure.getCluster().isInsecure()).isTrue();
    assertThat(insecure.clusterPlaneBeyondLoopback()).containsExactly("cluster.host 10.0.0.5");

    Path pem = file("node.pem", "-");
    NodeOptions tls = load(Map.of("SWITCHBOARD_CLUSTER_HOST", "10.0.0.5",
        "SWITCHBOARD_CLUSTER_TLS_CERT_PATH", pem.toString(), "SWITCHBOARD_CLUSTER_TLS_KEY_PATH", pem.toString(),
        "SWITCHBOARD_CLUSTER_TLS_CA_PATH", pem.toString()));
    assertThat(tls.getCluster().isInsecure()).isFalse();
    assertThat(load(Map.of()).getCluster().isInsecure()).as("the default").isFalse();
    assertThat(load(Map.of()).clusterPlaneBeyondLoopback()).isEmpty();
  }

  @Test
  void loopbackIsLocalhost127SlashEightAndColonColonOne() {
    assertThat(List.of("127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1", "[::1]", "0:0:0:0:0:0:0:1"))
        .allMatch(ClusterOptions::isLoopback);
    assertThat(List.of("10.0.0.5", "0.0.0.0", "128.0.0.1", "127.0.0.256", "127.0.0", "::", "node-a", "127.0.0.1.nip.io",
        "")).noneMatch(ClusterOptions::isLoopback);
  }

  @Test
  void anInvalidRoleFlagIsRefused() {
    NodeConfigLoader.Flags flags = new NodeConfigLoader.Flags(null, List.of("gateway", "cache"), null, null, null);

    assertThatThrownBy(() -> NodeConfigLoader.load(flags, Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("cache");
  }

  @Test
  void allowedHostsCorsOriginsAndTheMetricsModelCapComeFromTheEnvironment() {
    NodeOptions options = load(Map.of(
        "SWITCHBOARD_GATEWAY_ALLOWED_HOSTS", "gateway.example, 10.0.0.5",
        "SWITCHBOARD_GATEWAY_CORS_ALLOWED_ORIGINS", "https://app.example,http://localhost:3000",
        "SWITCHBOARD_GATEWAY_CORS_ALLOWED_HEADERS", "authorization,content-type",
        "SWITCHBOARD_GATEWAY_METRICS_MAX_MODELS", "20"));
    assertThat(options.getGateway().getAllowedHosts()).containsExactly("gateway.example", "10.0.0.5");
    assertThat(options.getGateway().getCors().getAllowedOrigins())
        .containsExactly("https://app.example", "http://localhost:3000");
    assertThat(options.getGateway().getCors().getAllowedHeaders()).containsExactly("authorization", "content-type");
    assertThat(options.getGateway().getMetricsMaxModels()).isEqualTo(20);
    NodeOptions defaults = load(Map.of());
    assertThat(defaults.getGateway().getAllowedHosts()).isEmpty();
    assertThat(defaults.getGateway().getCors().getAllowedOrigins()).isEmpty();
    assertThat(defaults.getGateway().getMetricsMaxModels()).isEqualTo(100);

    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GATEWAY_CORS_ALLOWED_ORIGINS", "https://app.example/page")))
        .hasMessageContaining("gateway.cors.allowedOrigins entries must be origins");
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GATEWAY_CORS_ALLOWED_ORIGINS", "*,https://app.example")))
        .hasMessageContaining("'*' (any origin) cannot be listed with other origins");
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GATEWAY_ALLOWED_HOSTS", "gateway.example:8080")))
        .hasMessageContaining("gateway.allowedHosts entries must be host names or addresses without a port");
    assertThatThrownBy(() -> load(Map.of("SWITCHBOARD_GATEWAY_METRICS_MAX_MODELS", "0")))
        .hasMessageContaining("gateway.metricsMaxModels must be >= 1");
  }

  // ---- variable names

  @Test
  void envNameIsThePathInUpperSnakeCase() {
    assertThat(NodeConfigLoader.envName("gateway.httpPort")).isEqualTo("SWITCHBOARD_GATEWAY_HTTP_PORT");
    assertThat(NodeConfigLoader.envName("node.roles")).isEqualTo("SWITCHBOARD_NODE_ROLES");
    assertThat(NodeConfigLoader.envName("workers.0.mocker.seed")).isEqualTo("SWITCHBOARD_WORKERS_0_MOCKER_SEED");
    assertThat(NodeConfigLoader.envName("workers.12.mocker.prefillTokensPerSecond"))
        .isEqualTo("SWITCHBOARD_WORKERS_12_MOCKER_PREFILL_TOKENS_PER_SECOND");
  }

  @Test
  void everySettingHasItsOwnVariable() {
    JsonObject config = new NodeOptions().toJson();
    List<String> leaves = new ArrayList<>();
    collectLeaves(config, "", leaves);

    Map<String, String> names = NodeConfigLoader.environmentNames(config);

    assertThat(leaves).contains("gateway.httpPort", "node.roles", "cluster.members", "workers.0.mocker.seed");
    assertThat(names).hasSameSizeAs(leaves);
    assertThat(names.values()).containsExactlyInAnyOrderElementsOf(leaves);
    names.forEach((variable, path) -> {
      assertThat(variable).isEqualTo(NodeConfigLoader.envName(path)).startsWith(NodeConfigLoader.ENV_PREFIX);
    });
    Set<String> aliases = new HashSet<>(NodeConfigLoader.ENV_ALIASES.keySet());
    aliases.retainAll(names.keySet());
    assertThat(aliases).as("aliases that shadow a setting's own variable").isEmpty();
    assertThat(names.keySet()).doesNotContain(NodeConfigLoader.ENV_CONFIG);
    assertThat(leaves).containsAll(NodeConfigLoader.ENV_ALIASES.values());
  }

  @Test
  void everyVariableIsReadBack() {
    // Setting each variable to a distinct valid value and loading must land it on the setting it names.
    NodeOptions options = load(Map.of(
        "SWITCHBOARD_NODE_SHUTDOWN_TIMEOUT_MS", "5000",
        "SWITCHBOARD_CLUSTER_NAME", "blue",
        "SWITCHBOARD_CLUSTER_PORT", "5801",
        "SWITCHBOARD_CLUSTER_EVENT_BUS_PORT", "6000",
        "SWITCHBOARD_GATEWAY_STREAM_CREDITS", "8",
        "SWITCHBOARD_GATEWAY_WORKER_SILENCE_MS", "1500",
        "SWITCHBOARD_WORKERS_0_DRAIN_TIMEOUT_MS", "250",
        "SWITCHBOARD_WORKERS_0_MOCKER_MAX_ANSWER_TOKENS", "70"));

    assertThat(options.getShutdownTimeoutMs()).isEqualTo(5000);
    assertThat(options.getCluster().getName()).isEqualTo("blue");
    assertThat(options.getCluster().getPort()).isEqualTo(5801);
    assertThat(options.getCluster().getEventBusPort()).isEqualTo(6000);
    assertThat(options.getGateway().getStreamCredits()).isEqualTo(8);
    assertThat(options.getGateway().getWorkerSilenceMs()).isEqualTo(1500);
    assertThat(options.getWorkers().get(0).getDrainTimeoutMs()).isEqualTo(250);
    assertThat(options.getWorkers().get(0).getMocker().getMaxAnswerTokens()).isEqualTo(70);
  }

  /** The leaves of a config tree, independently of the loader: lists of mappings are indexed. */
  private static void collectLeaves(Object node, String path, List<String> leaves) {
    if (NodeConfigLoader.NAMED_LISTS.contains(path)) {
      // A mapping of the user's names (gateway.models.aliases): one setting, one variable.
      leaves.add(path);
    } else if (node instanceof JsonObject object) {
      for (String key : object.fieldNames()) {
        collectLeaves(object.getValue(key), path.isEmpty() ? key : path + "." + key, leaves);
      }
    } else if (node instanceof JsonArray array && !array.isEmpty() && array.getValue(0) instanceof JsonObject) {
      for (int i = 0; i < array.size(); i++) {
        collectLeaves(array.getValue(i), path + "." + i, leaves);
      }
    } else {
      leaves.add(path);
    }
  }
}
