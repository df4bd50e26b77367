package io.switchboard.node;

import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.FreePorts;
import io.switchboard.testsupport.LlamaCppBinaries;
import io.switchboard.testsupport.NodeProcess;
import io.switchboard.testsupport.NodeProcesses;
import io.switchboard.worker.llamacpp.LlamaServerTestSupport;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.switchboard.node.ClusterTestSupport.freshCluster;
import static io.switchboard.node.ClusterTestSupport.get;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The official npm SDKs ({@code openai}'s Responses API, {@code @anthropic-ai/sdk}'s Messages API) against real
 * nodes, as agents and apps use them: the scripts in node/src/test/js/agents, installed by {@link AgentSdks}.
 * <ul>
 *   <li>embedded: the default node (gateway + mocker, mock-llm) with API keys, and a second gateway-only node of the
 *   same cluster, which answers a previous_response_id stored through the first and retrieves/deletes it;</li>
 *   <li>llama: a node with a real llama-server worker (the tiny GGUF) and its gateway on the event-bus plane, and a
 *   gateway-only node on the gRPC plane: every scenario through each plane;</li>
 *   <li>kill: a gateway and three mocker worker nodes; a long stream in each dialect whose worker node (named by
 *   x-switchboard-worker) is SIGKILLed mid-answer must still end normally, the gateway having migrated it.</li>
 * </ul>
 * Each run prints {@code agent-sdks: SUITE setup=... scenarios=N passed=N failed=N}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AgentSdkIT {

  private static final String KEY = "sk-agent-sdks-000001";
  private static final String ADMIN_KEY = "admin-agent-sdks-000001";
  private static final String TINY = "tiny-llama";
  private static final String RELAY = "relay-llm";
  /** The relay workers' answers: this many tokens at {@link #RELAY_RATE} per second, ending by themselves. */
  private static final int RELAY_TOKENS = 150;
  private static final int RELAY_RATE = 25;

  static final List<String> OPENAI = List.of("chat", "create", "stream", "tool", "previous-response",
      "retrieve-delete", "retrieve-unknown");
  static final List<String> ANTHROPIC = List.of("models", "create", "stream", "tool", "unknown-model",
      "missing-max-tokens", "count-tokens");

  private static final NodeProcesses processes = new NodeProcesses();
  private static int embeddedPort;
  private static int secondGatewayPort;
  private static final Map<String, Integer> llamaPorts = new LinkedHashMap<>();
  private static final Map<String, String> killCluster = new HashMap<>();
  private static int killGatewayPort;
  /** The relay worker nodes by worker id; a killed one is replaced by a new one. */
  private static final Map<String, NodeProcess> relayWorkers = new LinkedHashMap<>();
  private static int relayWorkersStarted;

  @BeforeAll
  static void start() throws Exception {
    assertThat(NodeProcess.jar()).as("run mvn package first").exists();
    AgentSdks.prepare();
    Path bin = LlamaCppBinaries.directory();
    Path model = LlamaServerTestSupport.tinyModel().toAbsolutePath();

    // embedded: the default node with API keys, and a gateway-only node beside it.
    Map<String, String> embedded = new HashMap<>(freshCluster("agents-embedded"));
    embedded.put("SWITCHBOARD_API_KEYS", KEY + ";name=agents");
    embedded.put("SWITCHBOARD_GATEWAY_ADMIN_KEY", ADMIN_KEY);
    embeddedPort = FreePorts.any();
    secondGatewayPort = FreePorts.any();
    processes.launch("agents-embedded", embedded, "--http-port", Integer.toString(embeddedPort));
    processes.launch("agents-second-gateway", embedded, "--roles", "gateway", "--http-port",
        Integer.toString(secondGatewayPort));

    // llama: a real llama-server worker behind an event-bus gateway (same node) and a gRPC gateway (another node).
    Map<String, String> llama = new HashMap<>(freshCluster("agents-llama"));
    llamaPorts.put("eventbus", FreePorts.any());
    llamaPorts.put("grpc", FreePorts.any());
    processes.launch("agents-llama", llama, "--http-port", Integer.toString(llamaPorts.get("eventbus")),
        "--llama-server-bin", bin.resolve("llama-server").toString(), "--model", model.toString());
    Map<String, String> grpc = new HashMap<>(llama);
    grpc.put("SWITCHBOARD_GATEWAY_REQUEST_PLANE", "grpc");
    processes.launch("agents-llama-grpc-gateway", grpc, "--roles", "gateway", "--http-port",
        Integer.toString(llamaPorts.get("grpc")));

    // kill: a gateway-only node and three slow mocker workers of one model, on nodes of their own.
    killCluster.putAll(freshCluster("agents-kill"));
    killGatewayPort = FreePorts.any();
    processes.launch("agents-kill-gateway", killCluster, "--roles", "gateway", "--http-port",
        Integer.toString(killGatewayPort));
    for (int i = 0; i < 3; i++) {
      startRelayWorker();
    }

    Eventually.within(ofSeconds(120), "the embedded node's worker is routable from both gateways",
        () -> !routable(embeddedPort).isEmpty() && !routable(secondGatewayPort).isEmpty());
    for (int port : llamaPorts.values()) {
      Eventually.within(ofSeconds(120), "the llama-server worker is routable from gateway :" + port,
          () -> !routable(port).isEmpty() && get(port, "/v1/models").body().contains(TINY));
    }
    Eventually.within(ofSeconds(120), "three relay workers are routable",
        () -> routable(killGatewayPort).containsAll(relayWorkers.keySet()));
  }

  @AfterAll
  static void stop() throws Exception {
    processes.close();
  }

  private static void startRelayWorker() throws Exception {
    String id = "relay-" + (++relayWorkersStarted);
    Map<String, String> env = new HashMap<>(killCluster);
    env.put("SWITCHBOARD_WORKERS_0_ID", id);
    env.put("SWITCHBOARD_WORKERS_0_MODEL", RELAY);
    // The same seed everywhere: a migrated stream's continuation is the text the first worker would have written.
    env.put("SWITCHBOARD_WORKERS_0_MOCKER_SEED", "7");
    env.put("SWITCHBOARD_WORKERS_0_MOCKER_PREFILL_TOKENS_PER_SECOND", "0");
    env.put("SWITCHBOARD_WORKERS_0_MOCKER_DECODE_TOKENS_PER_SECOND", Integer.toString(RELAY_RATE));
    env.put("SWITCHBOARD_WORKERS_0_MOCKER_BATCH_SLOWDOWN", "0");
    env.put("SWITCHBOARD_WORKERS_0_MOCKER_MIN_ANSWER_TOKENS", Integer.toString(RELAY_TOKENS));
    env.put("SWITCHBOARD_WORKERS_0_MOCKER_MAX_ANSWER_TOKENS", Integer.toString(RELAY_TOKENS));
    relayWorkers.put(id, processes.launch("agents-kill-" + id, env, "--roles", "worker"));
  }

  /** Routable worker ids as the gateway on {@code port} lists them (its admin key where it has one). */
  private static List<String> routable(int port) {
    try {
      return new JsonObject(get(port, "/admin/cluster?admin_key=" + ADMIN_KEY).body()).getJsonArray("workers")
          .stream().map(JsonObject.class::cast).filter(w -> "routable".equals(w.getString("status")))
          .map(w -> w.getString("workerId")).toList();
    } catch (Exception notUpYet) {
      return List.of();
    }
  }

  private static String url(int port) {
    return "http://127.0.0.1:" + port;
  }

  private static Map<String, String> settings(int port, Integer secondPort, String model, int maxTokens) {
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put("base-url", url(port));
    if (secondPort != null) {
      settings.put("base-url-2", url(secondPort));
    }
    settings.put("api-key", KEY);
    settings.put("model", model);
    settings.put("max-tokens", Integer.toString(maxTokens));
    return settings;
  }

  private static List<String> plus(List<String> scenarios, String... more) {
    List<String> all = new ArrayList<>(scenarios);
    all.addAll(List.of(more));
    return all;
  }

  // --- embedded default + a second gateway --------------------------------------------------------------------

  @Test
  @Order(1)
  void openAiResponsesOnTheEmbeddedNodeAndASecondGateway() throws Exception {
    // No max_output_tokens: the mocker's answers end by themselves (16 to 64 tokens), status completed.
    List<String> scenarios = plus(OPENAI, "bad-key");
    AgentSdks.Run run = AgentSdks.run("responses.mjs", "embedded",
        settings(embeddedPort, secondGatewayPort, "mock-llm", 0), scenarios, Duration.ofMinutes(2), e -> { });
    run.assertAllPassed(scenarios);
    assertThat(run.result("stream").getString("terminal")).isEqualTo("response.completed");
    assertThat(run.result("retrieve-delete").getBoolean("crossNode")).isTrue();
  }

  @Test
  @Order(2)
  void anthropicMessagesOnTheEmbeddedNode() throws Exception {
    // max_tokens is required here; the mocker writes an answer of exactly that length (stop_reason max_tokens).
    List<String> scenarios = plus(ANTHROPIC, "bad-key");
    AgentSdks.Run run = AgentSdks.run("messages.mjs", "embedded",
        settings(embeddedPort, secondGatewayPort, "mock-llm", 32), scenarios, Duration.ofMinutes(2), e -> { });
    run.assertAllPassed(scenarios);
  }

  // --- a real llama-server, through each request plane -------------------------------------------------------

  @ParameterizedTest(name = "{0} plane")
  @ValueSource(strings = {"eventbus", "grpc"})
  @Order(3)
  void openAiResponsesOnLlamaServer(String plane) throws Exception {
    String other = plane.equals("grpc") ? "eventbus" : "grpc";
    AgentSdks.Run run = AgentSdks.run("responses.mjs", "llama-" + plane,
        settings(llamaPorts.get(plane), llamaPorts.get(other), TINY, 12), OPENAI, Duration.ofMinutes(3), e -> { });
    run.assertAllPassed(OPENAI);
  }

  @ParameterizedTest(name = "{0} plane")
  @ValueSource(strings = {"eventbus", "grpc"})
  @Order(4)
  void anthropicMessagesOnLlamaServer(String plane) throws Exception {
    AgentSdks.Run run = AgentSdks.run("messages.mjs", "llama-" + plane,
        settings(llamaPorts.get(plane), null, TINY, 12), ANTHROPIC, Duration.ofMinutes(3), e -> { });
    run.assertAllPassed(ANTHROPIC);
  }

  // --- a worker SIGKILLed mid-stream ------------------------------------------------------------------------

  @ParameterizedTest(name = "{0} {1}")
  @org.junit.jupiter.params.provider.CsvSource({"responses.mjs, kill-stream", "responses.mjs, chat-kill-stream",
      "messages.mjs, kill-stream"})
  @Order(5)
  void aStreamWhoseWorkerIsKilledEndsNormallyOnAnotherWorker(String script, String scenario) throws Exception {
    Eventually.within(ofSeconds(60), "at least two relay workers are routable",
        () -> routable(killGatewayPort).size() >= 2);
    double migrationsBefore = migrations();
    AtomicReference<String> killed = new AtomicReference<>();
    Map<String, String> settings = settings(killGatewayPort, null, RELAY, 16);
    // OpenAI: no limit, so the answer ends by itself after RELAY_TOKENS (completed, stop). Anthropic requires
    // max_tokens: RELAY_TOKENS, which the mocker writes in full.
    boolean anthropic = script.startsWith("messages");
    settings.put("long-tokens", anthropic ? Integer.toString(RELAY_TOKENS) : "0");
    AgentSdks.Run run = AgentSdks.run(script, "kill-" + scenario, settings, List.of(scenario),
        Duration.ofMinutes(2), event -> {
          String worker = event.getString("worker");
          NodeProcess node = relayWorkers.get(worker);
          assertThat(node).as("x-switchboard-worker names a relay worker: %s", worker).isNotNull();
          try {
            node.kill();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          killed.set(worker);
          System.out.println("agent-sdks: SIGKILLed " + node + " serving " + scenario + " (" + script + ")");
        });
    assertThat(killed.get()).as("the script announced the worker serving its stream").isNotNull();
    relayWorkers.remove(killed.get());
    startRelayWorker();
    run.assertAllPassed(List.of(scenario));
    JsonObject result = run.result(scenario);
    assertThat(result.getString("worker")).isEqualTo(killed.get());
    if (anthropic) {
      assertThat(result.getString("stopReason")).isIn("end_turn", "max_tokens");
      assertThat(result.getInteger("outputTokens")).isEqualTo(RELAY_TOKENS);
    } else if (scenario.equals("kill-stream")) {
      assertThat(result.getString("terminal")).isEqualTo("response.completed");
      assertThat(result.getInteger("outputTokens")).isEqualTo(RELAY_TOKENS);
    } else {
      assertThat(result.getString("finishReason")).isEqualTo("stop");
      assertThat(result.getInteger("completionTokens")).isEqualTo(RELAY_TOKENS);
    }
    assertThat(migrations()).as("the gateway counted the stream's migration").isGreaterThan(migrationsBefore);
  }

  /** switchboard_stream_migrations_total of the relay model on the kill gateway. */
  private static double migrations() throws Exception {
    Matcher matcher = Pattern.compile("^switchboard_stream_migrations_total\\{[^}]*model=\"" + RELAY
        + "\"[^}]*} ([0-9.eE+-]+)$", Pattern.MULTILINE).matcher(get(killGatewayPort, "/metrics").body());
    return matcher.find() ? Double.parseDouble(matcher.group(1)) : 0;
  }
}
