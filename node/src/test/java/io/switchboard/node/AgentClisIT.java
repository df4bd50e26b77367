package io.switchboard.node;

import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.FreePorts;
import io.switchboard.testsupport.NodeProcess;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.File;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.switchboard.node.ClusterTestSupport.HTTP;
import static io.switchboard.node.ClusterTestSupport.freshCluster;
import static io.switchboard.node.ClusterTestSupport.get;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The coding agents people point at their own models, run as real subprocesses against the embedded default node
 * (gateway + mocker, model mock-llm) with an API key: Claude Code ({@code @anthropic-ai/claude-code}, the Messages
 * API) and Codex CLI ({@code @openai/codex}, the Responses API). Both are pinned in node/src/test/js/agent-clis and
 * installed by {@link NpmPackages} (npm ci --ignore-scripts; Claude Code's postinstall, which only links its
 * platform binary, runs after it). Each run gets a fresh HOME (and CODEX_HOME) under target/agent-clis, an
 * environment of only what it needs with every non-essential network call turned off, and a timeout; where strace
 * works, each run is traced and any connection outside loopback fails the test.
 * <p>Per CLI: the one-shot prompt exits 0 with an answer on stdout and the gateway's
 * {@code switchboard_requests_total} counted it on the CLI's endpoint with status 200 and no error status; a wrong
 * key makes the CLI fail and show the gateway's 401 message. Prints {@code agent-clis: ...} lines, the last one
 * {@code agent-clis: claude-code=ok codex=ok}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AgentClisIT {

  private static final String KEY = "sk-agent-clis-000001";
  private static final String WRONG_KEY = "sk-agent-clis-wrong-000001";
  private static final String ADMIN_KEY = "admin-agent-clis-000001";
  private static final String MODEL = "mock-llm";
  private static final String PROMPT = "say hi";
  /** What the gateway's 401 says (ApiKeyAuth), as the CLIs must show it. */
  private static final String GATEWAY_401 = "Incorrect API key provided";
  private static final Duration TIMEOUT = Duration.ofMinutes(3);
  private static final Path SOURCE = NodeProcess.REPO.resolve("node/src/test/js/agent-clis").toAbsolutePath()
      .normalize();
  /** Claude Code's postinstall: hard-links the platform binary over the bin/claude.exe stub; no network. */
  private static final String CLAUDE_POSTINSTALL = "@anthropic-ai/claude-code/install.cjs";
  private static final String CODEX_KEY_VAR = "SWITCHBOARD_AGENT_CLIS_KEY";

  private static Path modules;
  private static Path work;
  private static NodeProcess node;
  private static int port;
  private static boolean strace;
  private static final List<Process> started = Collections.synchronizedList(new ArrayList<>());
  /** Per CLI, the checks that failed (none: ok). */
  private static final Map<String, List<String>> failures = new LinkedHashMap<>();
  private static final Map<String, Boolean> ran = new LinkedHashMap<>();

  @BeforeAll
  static void start() throws Exception {
    for (String cli : List.of("claude-code", "codex")) {
      failures.put(cli, new ArrayList<>());
      ran.put(cli, false);
    }
    assertThat(NodeProcess.jar()).as("run mvn package first").exists();
    Path installed = NpmPackages.install(SOURCE, "agent-clis", "agent-clis", List.of(CLAUDE_POSTINSTALL));
    modules = installed.resolve("node_modules");
    work = Path.of("target", "agent-clis").toAbsolutePath();
    NpmPackages.deleteTree(work);
    Files.createDirectories(work);
    strace = straceWorks();

    Map<String, String> env = new HashMap<>(freshCluster("agent-clis"));
    env.put("SWITCHBOARD_API_KEYS", KEY + ";name=agent-clis");
    env.put("SWITCHBOARD_GATEWAY_ADMIN_KEY", ADMIN_KEY);
    port = FreePorts.any();
    node = new NodeProcess("agent-clis", env, "--http-port", Integer.toString(port));
    Eventually.within(ofSeconds(120), "the embedded node's mocker is routable", () -> {
      try {
        return new JsonObject(get(port, "/admin/cluster?admin_key=" + ADMIN_KEY).body()).getJsonArray("workers")
            .stream().map(JsonObject.class::cast).anyMatch(w -> "routable".equals(w.getString("status")));
      } catch (Exception notUpYet) {
        return false;
      }
    });
  }

  @AfterAll
  static void stop() throws Exception {
    synchronized (started) {
      for (Process process : started) {
        killTree(process);
      }
    }
    if (node != null) {
      node.close();
    }
    StringBuilder line = new StringBuilder("agent-clis:");
    failures.forEach((cli, failed) -> line.append(' ').append(cli).append('=')
        .append(!ran.get(cli) ? "not-run" : failed.isEmpty() ? "ok" : "failed(" + String.join(",", failed) + ")"));
    System.out.println(line);
  }

  // --- Claude Code: the Messages API ------------------------------------------------------------------------

  @Test
  @Order(1)
  void claudeCodeAnswersThroughMessages() throws Exception {
    check("claude-code", "answer", () -> {
      String version = pinned("@anthropic-ai/claude-code");
      CliRun versionRun = run("claude-version", List.of(claude().toString(), "--version"), claudeEnv("version", KEY));
      assertThat(versionRun.exit).as("claude --version: %s", versionRun.output()).isZero();
      assertThat(versionRun.stdout).contains(version);

      CliRun run = run("claude-answer", List.of(claude().toString(), "-p", PROMPT, "--model", MODEL),
          claudeEnv("answer", KEY));
      assertAnswered(run, "messages");
      System.out.println("agent-clis: claude-code " + version + " answer " + run.describe());
    });
  }

  @Test
  @Order(2)
  void claudeCodeShowsTheGateways401() throws Exception {
    check("claude-code", "wrong-key", () -> {
      Map<String, String> env = claudeEnv("wrong-key", WRONG_KEY);
      // Claude Code retries a 401 (up to 10 times, about 3 minutes with its backoff) unless the response says
      // x-should-retry: false, as Anthropic's API does. Until the gateway says so, this run allows one retry.
      String shouldRetry = wrongKeyHeader("/v1/messages", "x-api-key", "x-should-retry");
      if (!"false".equals(shouldRetry)) {
        env.put("CLAUDE_CODE_MAX_RETRIES", "1");
      }
      CliRun run = run("claude-wrong-key", List.of(claude().toString(), "-p", PROMPT, "--model", MODEL), env);
      assertRefused(run);
      System.out.println("agent-clis: claude-code wrong-key " + run.describe() + " x-should-retry="
          + (shouldRetry == null ? "absent (CLAUDE_CODE_MAX_RETRIES=1 for this run)" : shouldRetry));
    });
  }

  // --- Codex CLI: the Responses API -------------------------------------------------------------------------

  @Test
  @Order(3)
  void codexAnswersThroughResponses() throws Exception {
    check("codex", "answer", () -> {
      String version = pinned("@openai/codex");
      CliRun versionRun = run("codex-version", List.of(codex().toString(), "--version"), codexEnv("version", KEY));
      assertThat(versionRun.exit).as("codex --version: %s", versionRun.output()).isZero();
      assertThat(versionRun.stdout).contains(version);

      CliRun run = run("codex-answer", codexExec(), codexEnv("answer", KEY));
      assertAnswered(run, "responses");
      System.out.println("agent-clis: codex " + version + " answer " + run.describe());
    });
  }

  @Test
  @Order(4)
  void codexShowsTheGateways401() throws Exception {
    check("codex", "wrong-key", () -> {
      // Codex retries the stream five times (its default stream_max_retries), then gives up: about 6 s.
      CliRun run = run("codex-wrong-key", codexExec(), codexEnv("wrong-key", WRONG_KEY));
      assertRefused(run);
      System.out.println("agent-clis: codex wrong-key " + run.describe());
    });
  }

  // --- the CLIs' set-ups --------------------------------------------------------------------------------------

  private static Path claude() {
    return modules.resolve(".bin").resolve("claude");
  }

  private static Path codex() {
    return modules.resolve(".bin").resolve("codex");
  }

  private static List<String> codexExec() {
    return List.of(codex().toString(), "exec", "--skip-git-repo-check", PROMPT);
  }

  /** Claude Code on this gateway: every model it picks is mock-llm; no telemetry, updater or other traffic. */
  private static Map<String, String> claudeEnv(String label, String key) throws Exception {
    Map<String, String> env = baseEnv("claude-" + label);
    env.put("ANTHROPIC_BASE_URL", "http://127.0.0.1:" + port);
    env.put("ANTHROPIC_API_KEY", key);
    for (String var : List.of("ANTHROPIC_MODEL", "ANTHROPIC_DEFAULT_HAIKU_MODEL", "ANTHROPIC_DEFAULT_SONNET_MODEL",
        "ANTHROPIC_DEFAULT_OPUS_MODEL", "CLAUDE_CODE_SUBAGENT_MODEL")) {
      env.put(var, MODEL);
    }
    env.put("DISABLE_TELEMETRY", "1");
    env.put("DISABLE_AUTOUPDATER", "1");
    env.put("DISABLE_ERROR_REPORTING", "1");
    env.put("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1");
    return env;
  }

  /**
   * Codex on this gateway: a CODEX_HOME whose config.toml names a Responses-API provider at the gateway, its key in
   * an environment variable; no update check, analytics or feedback, and no plugins (whose sync would fetch the
   * curated marketplace from the internet at start).
   */
  private static Map<String, String> codexEnv(String label, String key) throws Exception {
    Map<String, String> env = baseEnv("codex-" + label);
    Path codexHome = Files.createDirectories(Path.of(env.get("HOME"), "codex-home"));
    Files.writeString(codexHome.resolve("config.toml"), String.join("\n",
        "model = \"" + MODEL + "\"",
        "model_provider = \"switchboard\"",
        "check_for_update_on_startup = false",
        "",
        "[model_providers.switchboard]",
        "name = \"Switchboard\"",
        "base_url = \"http://127.0.0.1:" + port + "/v1\"",
        "wire_api = \"responses\"",
        "env_key = \"" + CODEX_KEY_VAR + "\"",
        "",
        "[features]",
        "plugins = false",
        "",
        "[analytics]",
        "enabled = false",
        "",
        "[feedback]",
        "enabled = false",
        ""));
    env.put("CODEX_HOME", codexHome.toString());
    env.put(CODEX_KEY_VAR, key);
    return env;
  }

  /** A fresh HOME (with its XDG folders) under target/agent-clis, and nothing else of this JVM's environment. */
  private static Map<String, String> baseEnv(String label) throws Exception {
    Path home = work.resolve(label).resolve("home");
    NpmPackages.deleteTree(home);
    Files.createDirectories(home);
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PATH", System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin"));
    env.put("HOME", home.toString());
    env.put("XDG_CONFIG_HOME", home.resolve(".config").toString());
    env.put("XDG_CACHE_HOME", home.resolve(".cache").toString());
    env.put("XDG_DATA_HOME", home.resolve(".local/share").toString());
    env.put("XDG_STATE_HOME", home.resolve(".local/state").toString());
    env.put("LANG", "C.UTF-8");
    env.put("TERM", "dumb");
    env.put("NO_COLOR", "1");
    return env;
  }

  /** The version package.json pins for {@code name}. */
  private static String pinned(String name) throws Exception {
    return new JsonObject(Files.readString(SOURCE.resolve("package.json"))).getJsonObject("dependencies")
        .getString(name);
  }

  // --- running one CLI ----------------------------------------------------------------------------------------

  /** What one CLI run did: its exit, output, time, the gateway's request counts that changed, and its connects. */
  private record CliRun(String label, int exit, String stdout, String stderr, Duration took,
                        Map<String, Double> requests, List<String> remoteConnects, Path dir) {

    String output() {
      return "exit " + exit + "; stdout: " + stdout.strip() + "; stderr: " + stderr.strip() + " (in " + dir + ")";
    }

    String describe() {
      StringBuilder gateway = new StringBuilder();
      requests.forEach((key, delta) -> gateway.append(gateway.length() == 0 ? "" : ",").append(key.replace(' ', ':'))
          .append('+').append(Math.round(delta)));
      return "exit=" + exit + " seconds=" + String.format("%.1f", took.toMillis() / 1000.0)
          + " stdout-chars=" + stdout.strip().length()
          + " gateway=" + (gateway.length() == 0 ? "none" : gateway)
          + " connects=" + (!strace ? "not-traced" : remoteConnects.isEmpty() ? "loopback-only"
          : String.join(",", remoteConnects));
    }
  }

  /**
   * Runs {@code command} in a fresh directory of its own with exactly {@code env}, stdin empty, stdout and stderr to
   * files there; killed (with its children) past {@link #TIMEOUT}.
   */
  private static CliRun run(String label, List<String> command, Map<String, String> env) throws Exception {
    Path dir = work.resolve(label);
    Path cwd = Files.createDirectories(dir.resolve("cwd"));
    Path trace = dir.resolve("connect.strace");
    List<String> full = new ArrayList<>();
    if (strace) {
      full.addAll(List.of("strace", "-f", "-qq", "-e", "trace=connect", "-o", trace.toString()));
    }
    full.addAll(command);
    ProcessBuilder builder = new ProcessBuilder(full).directory(cwd.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectOutput(dir.resolve("stdout.txt").toFile())
        .redirectError(dir.resolve("stderr.txt").toFile());
    builder.environment().clear();
    builder.environment().putAll(env);
    Map<String, Double> before = requests();
    long t0 = System.nanoTime();
    Process process = builder.start();
    started.add(process);
    boolean done = process.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    Duration took = Duration.ofNanos(System.nanoTime() - t0);
    if (!done) {
      killTree(process);
    }
    Map<String, Double> after = requests();
    Map<String, Double> delta = new TreeMap<>();
    after.forEach((key, value) -> {
      double d = value - before.getOrDefault(key, 0.0);
      if (d != 0) {
        delta.put(key, d);
      }
    });
    CliRun run = new CliRun(label, done ? process.exitValue() : -1, Files.readString(dir.resolve("stdout.txt")),
        Files.readString(dir.resolve("stderr.txt")), took, delta, strace ? remoteConnects(trace) : List.of(), dir);
    String answer = run.stdout.strip();
    System.out.println("[agent-clis " + label + "] exit " + run.exit + ", stdout: "
        + (answer.length() > 300 ? answer.substring(0, 300) + "..." : answer));
    assertThat(done).as("%s still running after %s: killed; %s", label, TIMEOUT, run.output()).isTrue();
    assertThat(run.remoteConnects).as("%s connected outside loopback (see %s)", label, trace).isEmpty();
    return run;
  }

  private static void assertAnswered(CliRun run, String endpoint) {
    assertThat(run.exit).as("%s: %s", run.label, run.output()).isZero();
    assertThat(run.stdout).as("%s printed no answer: %s", run.label, run.output()).isNotBlank();
    assertThat(run.requests.getOrDefault(endpoint + " 200", 0.0))
        .as("%s: switchboard_requests_total{endpoint=\"%s\",status=\"200\"} went up; changes: %s", run.label,
            endpoint, run.requests).isGreaterThanOrEqualTo(1.0);
    assertThat(run.requests.keySet()).as("%s: no request of the CLI got an error status; changes: %s", run.label,
        run.requests).allMatch(key -> key.endsWith(" 200"));
  }

  private static void assertRefused(CliRun run) {
    assertThat(run.exit).as("%s with a wrong key must fail: %s", run.label, run.output()).isNotZero();
    assertThat(run.stdout + run.stderr).as("%s shows the gateway's 401: %s", run.label, run.output())
        .contains("401").contains(GATEWAY_401);
  }

  /** The named header of the gateway's 401 to a wrong key on {@code path}, null when it sends none. */
  private static String wrongKeyHeader(String path, String keyHeader, String header) throws Exception {
    HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header(keyHeader, WRONG_KEY).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as("a wrong key on %s: %s", path, response.body()).isEqualTo(401);
    return response.headers().firstValue(header).orElse(null);
  }

  /** switchboard_requests_total summed over models, by "ENDPOINT STATUS". */
  private static Map<String, Double> requests() throws Exception {
    HttpResponse<String> metrics = get(port, "/metrics?admin_key=" + ADMIN_KEY);
    assertThat(metrics.statusCode()).as("/metrics: %s", metrics.body()).isEqualTo(200);
    Map<String, Double> counts = new TreeMap<>();
    Matcher line = Pattern.compile("^switchboard_requests_total\\{([^}]*)} ([0-9.eE+-]+)$", Pattern.MULTILINE)
        .matcher(metrics.body());
    while (line.find()) {
      String tags = line.group(1);
      counts.merge(tag(tags, "endpoint") + " " + tag(tags, "status"), Double.parseDouble(line.group(2)), Double::sum);
    }
    return counts;
  }

  private static String tag(String tags, String name) {
    Matcher m = Pattern.compile("(?:^|,)" + name + "=\"([^\"]*)\"").matcher(tags);
    return m.find() ? m.group(1) : "?";
  }

  /** The addresses outside loopback that a traced run connected to (IPv4 and IPv6), as ADDRESS:PORT. */
  private static List<String> remoteConnects(Path trace) throws Exception {
    List<String> remote = new ArrayList<>();
    if (!Files.exists(trace)) {
      return remote;
    }
    Pattern inet = Pattern.compile("connect\\(\\d+, \\{sa_family=AF_INET6?, sin6?_port=htons\\((\\d+)\\)"
        + ".*?(?:inet_addr\\(\"([^\"]+)\"\\)|inet_pton\\(AF_INET6, \"([^\"]+)\")");
    for (String line : Files.readAllLines(trace)) {
      Matcher m = inet.matcher(line);
      if (m.find()) {
        String address = m.group(2) != null ? m.group(2) : m.group(3);
        boolean loopback = address.startsWith("127.") || address.equals("::1") || address.startsWith("::ffff:127.");
        if (!loopback && !remote.contains(address + ":" + m.group(1))) {
          remote.add(address + ":" + m.group(1));
        }
      }
    }
    return remote;
  }

  /** Whether strace can trace a child here (it is optional; a container may forbid ptrace). */
  private static boolean straceWorks() {
    try {
      Process probe = new ProcessBuilder("strace", "-f", "-qq", "-e", "trace=connect", "-o", "/dev/null", "true")
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      boolean works = probe.waitFor(30, TimeUnit.SECONDS) && probe.exitValue() == 0;
      System.out.println("agent-clis: " + (works ? "tracing each run's connects with strace"
          : "strace cannot trace here: connects not checked"));
      return works;
    } catch (Exception missing) {
      System.out.println("agent-clis: no strace: connects not checked");
      return false;
    }
  }

  /** SIGKILL to a process's descendants, then to it. */
  private static void killTree(Process process) throws InterruptedException {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
  }

  private interface Check {
    void run() throws Exception;
  }

  /** Runs one check of a CLI, noting it for the summary line if it fails. */
  private static void check(String cli, String name, Check check) throws Exception {
    ran.put(cli, true);
    try {
      check.run();
    } catch (Exception | AssertionError failed) {
      failures.get(cli).add(name);
      throw failed;
    }
  }
}
