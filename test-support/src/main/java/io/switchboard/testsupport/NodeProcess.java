package io.switchboard.testsupport;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A Switchboard node started as its own JVM from the built jar (system property {@code switchboard.jar}, which the
 * node module's failsafe run sets), in the repository's directory, with no {@code SWITCHBOARD_*} variable but those
 * given, and its output in target/it-logs/NAME.log.
 */
public final class NodeProcess implements AutoCloseable {

  public static final Path JAR = Path.of(System.getProperty("switchboard.jar", "target/switchboard.jar"));
  public static final Path REPO = Path.of(System.getProperty("switchboard.repo", ".."));

  private final Process process;
  public final String name;
  public final Path log;

  public NodeProcess(String name, Map<String, String> env, String... args) throws IOException {
    this(name, env, List.of(), args);
  }

  /** @param launcher a command that runs the JVM in some place, e.g. {@code ip netns exec NS}; empty for none */
  public NodeProcess(String name, Map<String, String> env, List<String> launcher, String... args) throws IOException {
    this.name = name;
    Path logs = Path.of("target", "it-logs");
    Files.createDirectories(logs);
    this.log = logs.resolve(name + ".log");
    List<String> command = new ArrayList<>(launcher);
    command.addAll(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-jar", JAR.toAbsolutePath().toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command)
        .directory(REPO.toFile())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
    builder.environment().keySet().removeIf(key -> key.startsWith("SWITCHBOARD_"));
    builder.environment().putAll(env);
    this.process = builder.start();
  }

  public long pid() {
    return process.pid();
  }

  /** The node's process, to find what it started (its llama-servers). */
  public ProcessHandle handle() {
    return process.toHandle();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** SIGKILL: the node gets no chance to say goodbye. */
  public void kill() throws InterruptedException {
    process.destroyForcibly().waitFor();
  }

  /** SIGTERM: the node drains and leaves. */
  public void terminate() {
    process.destroy();
  }

  public int waitForExit(long timeoutMs) throws InterruptedException {
    if (!process.waitFor(timeoutMs, java.util.concurrent.TimeUnit.MILLISECONDS)) {
      throw new AssertionError(name + " did not exit within " + timeoutMs + " ms; see " + log);
    }
    return process.exitValue();
  }

  public String output() throws IOException {
    return Files.exists(log) ? Files.readString(log) : "";
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroyForcibly().waitFor();
    }
  }

  @Override
  public String toString() {
    return "node " + name + " (pid " + process.pid() + ")";
  }

  public static File jar() {
    return JAR.toFile();
  }
}
