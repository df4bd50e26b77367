package io.switchboard.node;

import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The official OpenAI and Anthropic npm SDKs, installed from the npm registry by {@code npm ci} from the committed
 * package-lock.json of node/src/test/js/agents into ~/.cache/switchboard/agents-sdk/HASH (HASH of package.json and
 * the lock; reused while they do not change), and the scenario scripts beside them run with {@code node}.
 */
final class AgentSdks {

  static final Path SOURCE = NodeProcess.REPO.resolve("node/src/test/js/agents").toAbsolutePath().normalize();
  static final Path CACHE = Path.of(System.getProperty("user.home"), ".cache", "switchboard");
  private static final String INSTALLED = ".switchboard-installed";

  private static Path workDir;

  private AgentSdks() {
  }

  /** What one script run printed: its scenario results by name, the events it announced, its exit and stderr. */
  record Run(String suite, String label, int exit, Map<String, JsonObject> results, List<JsonObject> events,
             Path log) {

    JsonObject result(String scenario) {
      JsonObject result = results.get(scenario);
      assertThat(result).as("%s %s: scenario %s printed no result; see %s", suite, label, scenario, log).isNotNull();
      return result;
    }

    List<String> failed() {
      return results.values().stream().filter(r -> !r.getBoolean("ok", false)).map(r -> r.getString("scenario"))
          .collect(Collectors.toList());
    }

    /** One line for the suite's summary: how many scenarios ran and passed, and what the model did with tools. */
    String summary() {
      StringBuilder line = new StringBuilder("agent-sdks: ").append(suite).append(" setup=").append(label)
          .append(" scenarios=").append(results.size())
          .append(" passed=").append(results.size() - failed().size())
          .append(" failed=").append(failed().size());
      JsonObject tool = results.get("tool");
      if (tool != null && tool.getBoolean("ok", false)) {
        line.append(" tool-called=").append(tool.getBoolean("toolCalled"));
      }
      if (!failed().isEmpty()) {
        line.append(" failing=").append(String.join(",", failed()));
      }
      return line.toString();
    }

    /** Every scenario asked for ran and passed; a failure shows the SDK's error and where the stderr is. */
    void assertAllPassed(List<String> scenarios) {
      assertThat(results.keySet()).as("%s %s: the scenarios that printed a result; see %s", suite, label, log)
          .containsExactlyInAnyOrderElementsOf(scenarios);
      for (String scenario : scenarios) {
        JsonObject result = result(scenario);
        assertThat(result.getBoolean("ok")).as("%s %s %s: %s (stderr: %s)", suite, label, scenario,
            result.getJsonObject("error", new JsonObject()).encode(), log).isTrue();
      }
      assertThat(exit).as("%s %s exit status; see %s", suite, label, log).isZero();
    }
  }

  /** Installs the SDKs once per lock file (npm ci from the npm registry) and returns the directory to run in. */
  static synchronized Path prepare() throws Exception {
    if (workDir != null) {
      return workDir;
    }
    String nodeVersion = tool("node", "--version");
    String npmVersion = tool("npm", "--version");
    int major = Integer.parseInt(nodeVersion.replaceFirst("^v", "").split("\\.")[0]);
    assertThat(major).as("the SDK suite needs Node.js 20 or newer; found %s", nodeVersion).isGreaterThanOrEqualTo(20);

    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    sha.update(Files.readAllBytes(SOURCE.resolve("package.json")));
    sha.update(Files.readAllBytes(SOURCE.resolve("package-lock.json")));
    String hash = HexFormat.of().formatHex(sha.digest()).substring(0, 16);
    Path installed = CACHE.resolve("agents-sdk").resolve(hash);
    if (!Files.exists(installed.resolve(INSTALLED))) {
      install(installed, nodeVersion, npmVersion);
    }

    Path dir = Path.of("target", "agent-sdks").toAbsolutePath();
    Files.createDirectories(dir);
    try (Stream<Path> scripts = Files.list(SOURCE)) {
      for (Path script : scripts.filter(p -> p.toString().endsWith(".mjs")).toList()) {
        Files.copy(script, dir.resolve(script.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Files.copy(SOURCE.resolve("package.json"), dir.resolve("package.json"), StandardCopyOption.REPLACE_EXISTING);
    Path modules = dir.resolve("node_modules");
    Files.deleteIfExists(modules);
    Files.createSymbolicLink(modules, installed.resolve("node_modules"));
    workDir = dir;
    return dir;
  }

  private static void install(Path installed, String nodeVersion, String npmVersion) throws Exception {
    Path staging = installed.resolveSibling(installed.getFileName() + ".tmp-" + ProcessHandle.current().pid());
    deleteTree(staging);
    Files.createDirectories(staging);
    Files.copy(SOURCE.resolve("package.json"), staging.resolve("package.json"));
    Files.copy(SOURCE.resolve("package-lock.json"), staging.resolve("package-lock.json"));
    Path log = Files.createDirectories(Path.of("target", "it-logs")).resolve("agent-sdks-npm-ci.log");
    // --ignore-scripts: the SDKs need no install scripts; the registry is npm's (the lock names no other).
    Process npm = new ProcessBuilder("npm", "ci", "--cache", CACHE.resolve("npm").toString(), "--no-audit",
        "--no-fund", "--ignore-scripts", "--loglevel", "warn")
        .directory(staging.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    boolean done = npm.waitFor(5, TimeUnit.MINUTES);
    if (!done) {
      npm.destroyForcibly().waitFor();
    }
    assertThat(done && npm.exitValue() == 0).as("npm ci of the SDKs (node %s, npm %s) failed; see %s:%n%s",
        nodeVersion, npmVersion, log, Files.readString(log)).isTrue();
    Files.writeString(staging.resolve(INSTALLED), "npm ci, node " + nodeVersion + ", npm " + npmVersion + "\n");
    Files.writeString(staging.resolve("node_modules").resolve(INSTALLED), "see ../" + INSTALLED + "\n");
    try {
      Files.move(staging, installed, StandardCopyOption.ATOMIC_MOVE);
    } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException | java.nio.file.DirectoryNotEmptyException
             raced) {
      // Another build installed the same lock meanwhile: use its copy.
      deleteTree(staging);
      assertThat(installed.resolve(INSTALLED)).exists();
    }
  }

  /** The first line {@code NAME ARG} prints; a clear failure where the tool is missing. */
  private static String tool(String name, String arg) throws Exception {
    try {
      Process process = new ProcessBuilder(name, arg).redirectErrorStream(true).start();
      String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      assertThat(process.waitFor(60, TimeUnit.SECONDS) && process.exitValue() == 0)
          .as("`%s %s` failed: %s", name, arg, out).isTrue();
      return out.lines().findFirst().orElse("");
    } catch (IOException missing) {
      throw new AssertionError("The agent SDK suite (AgentSdkIT) runs the official npm SDKs and needs `" + name
          + "` on the PATH: install Node.js 20+ and npm (apt-get install nodejs npm; tools/test-all does).", missing);
    }
  }

  /**
   * Runs {@code node SCRIPT --name value ...}, reading its stdout line by line as it comes: a line with
   * {@code "event"} goes to {@code onEvent} at once (the test acts mid-scenario), a line with {@code "ok"} is a
   * scenario's result. Each line is echoed to this test's output; stderr goes to target/it-logs.
   */
  static Run run(String script, String label, Map<String, String> settings, List<String> scenarios,
                 Duration timeout, Consumer<JsonObject> onEvent) throws Exception {
    Path dir = prepare();
    List<String> command = new ArrayList<>(List.of("node", script));
    Map<String, String> all = new LinkedHashMap<>(settings);
    all.put("scenarios", String.join(",", scenarios));
    all.forEach((name, value) -> command.addAll(List.of("--" + name, value)));
    String suite = script.startsWith("messages") ? "anthropic-messages" : "openai-responses";
    Path log = Files.createDirectories(Path.of("target", "it-logs").toAbsolutePath())
        .resolve("agent-sdks-" + suite + "-" + label + ".stderr.log");
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
        .redirectError(ProcessBuilder.Redirect.to(log.toFile()));
    builder.environment().keySet().removeIf(key -> key.startsWith("SB_") || key.startsWith("OPENAI_")
        || key.startsWith("ANTHROPIC_"));
    Process process = builder.start();
    Thread watchdog = new Thread(() -> {
      try {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          System.out.println("agent-sdks: " + suite + " " + label + " still running after " + timeout + ": killed");
          process.destroyForcibly();
        }
      } catch (InterruptedException ignored) {
        process.destroyForcibly();
      }
    }, "agent-sdk-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
    Map<String, JsonObject> results = new LinkedHashMap<>();
    List<JsonObject> events = new ArrayList<>();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
        StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null) {
        System.out.println("[" + suite + " " + label + "] " + line);
        JsonObject json;
        try {
          json = new JsonObject(line);
        } catch (RuntimeException notJson) {
          continue;
        }
        if (json.containsKey("event")) {
          events.add(json);
          onEvent.accept(json);
        } else if (json.containsKey("ok")) {
          results.put(json.getString("scenario"), json);
        }
      }
    } finally {
      if (process.isAlive() && !process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
      watchdog.interrupt();
    }
    Run run = new Run(suite, label, process.exitValue(), results, events, log);
    System.out.println(run.summary());
    return run;
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
