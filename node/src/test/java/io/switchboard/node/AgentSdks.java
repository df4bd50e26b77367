package io.switchboard.node;

import io.switchboard.testsupport.NodeProcess;
import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
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
 * package-lock.json of node/src/test/js/agents into ~/.cache/switchboard/agents-sdk/HASH ({@link NpmPackages}), and
 * the scenario scripts beside them run with {@code node}.
 */
final class AgentSdks {

  static final Path SOURCE = NodeProcess.REPO.resolve("node/src/test/js/agents").toAbsolutePath().normalize();

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
    Path installed = NpmPackages.install(SOURCE, "agents-sdk", "agent-sdks", List.of());

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
}
