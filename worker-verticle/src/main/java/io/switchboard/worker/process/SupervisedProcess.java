package io.switchboard.worker.process;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One run of a child process the node supervises (ggml-rpc-server, llama-server). It is started through a
 * small sh wrapper that holds the JVM's pipe open: if the JVM dies (even by SIGKILL) the pipe closes and the
 * wrapper stops the child, so no orphan keeps its port. Output goes to a log file whose tail explains a crash.
 * Process work runs off the event loop; the exit is reported on the caller's context.
 */
public final class SupervisedProcess {

  // "$0" is the binary; the reader ends when the JVM's end of stdin closes, and then stops the server. (A
  // background list reads /dev/null unless told otherwise, hence fd 3.)
  private static final String WRAPPER = "exec 3<&0; \"$0\" \"$@\" </dev/null & child=$!; "
      + "( read -r _ <&3; kill -TERM \"$child\" 2>/dev/null ) & watcher=$!; "
      + "wait \"$child\"; status=$?; kill \"$watcher\" 2>/dev/null; exit $status";

  private final Process process;
  private final Path log;
  private final Promise<Integer> exited = Promise.promise();

  private SupervisedProcess(Process process, Path log, Context context) {
    this.process = process;
    this.log = log;
    // The JDK reports the exit on its own thread; the supervisor must hear of it on its event loop.
    process.onExit().thenAccept(done -> context.runOnContext(v -> exited.tryComplete(done.exitValue())));
  }

  /**
   * Starts {@code command} (binary first) under the wrapper, output to a temporary log named after
   * {@code name}; call from the supervisor's context.
   */
  public static Future<SupervisedProcess> start(Vertx vertx, List<String> command, String name) {
    Context context = vertx.getOrCreateContext();
    return vertx.executeBlocking(() -> {
      List<String> wrapped = new ArrayList<>(List.of("sh", "-c", WRAPPER));
      wrapped.addAll(command);
      Path log = Files.createTempFile("switchboard-" + name + "-", ".log");
      Process process = new ProcessBuilder(wrapped).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      return new SupervisedProcess(process, log, context);
    }, false);
  }


  /** Completes with the exit status when the child (or its wrapper) ends, for whatever reason. */
  public Future<Integer> exited() {
    return exited.future();
  }

  /** The child's own pid (the wrapper's child), or the wrapper's while it has not started it yet. */
  public long pid() {
    return process.children().findFirst().map(ProcessHandle::pid).orElse(process.pid());
  }

  /** The last lines it printed, to explain a crash. */
  public String tail(int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join(" | ", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException unreadable) {
      return "(no output: " + unreadable.getMessage() + ")";
    }
  }

  /** SIGTERM to the child, SIGKILL after a grace period; completes when it is gone. */
  public Future<Void> stop(Vertx vertx) {
    return vertx.executeBlocking(() -> {
      process.descendants().forEach(ProcessHandle::destroy);
      process.getOutputStream().close();
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
      Files.deleteIfExists(log);
      return null;
    }, false);
  }
}
