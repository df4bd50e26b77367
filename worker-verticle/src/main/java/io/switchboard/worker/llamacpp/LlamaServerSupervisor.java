package io.switchboard.worker.llamacpp;

import io.switchboard.worker.process.SupervisedProcess;
import io.switchboard.worker.rpc.RpcPool;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Runs the llamacpp engine's own llama-server over the rpc pool: started with the pool's members as
 * {@code --rpc} (in the pool's stable order, all layers offloaded to them), one slot per worker slot and
 * {@code --metrics}, healthy once {@code /health} answers 200. When the pool changes and stays changed for the
 * debounce, it stops taking new generations, lets in-flight ones finish (bounded), and restarts on the new
 * pool; when it crashes it restarts after a growing backoff. Used only on the worker's event loop.
 */
final class LlamaServerSupervisor {

  private static final Logger log = LoggerFactory.getLogger(LlamaServerSupervisor.class);
  private static final long HEALTH_RETRY_MS = 250;
  private static final long MAX_CRASH_BACKOFF_MS = 30_000;

  /** What the engine must do around a restart. */
  interface Gate {
    /** Stop taking generations (they are refused as busy) and complete when none is in flight, or after drainMs. */
    Future<Void> close(long drainMs);

    /** Take generations again. */
    void open();
  }

  private final Vertx vertx;
  private final LlamaCppOptions options;
  private final String workerId;
  private final int slots;
  private final int port;
  private final RpcPool pool;
  private final HttpClient client;
  private final Gate gate;
  private SupervisedProcess current;
  private List<String> runningOn = List.of();
  private boolean restarting;
  private boolean started;
  private boolean stopping;
  private long debounceTimer = -1;
  private long crashBackoffMs = 1000;

  LlamaServerSupervisor(Vertx vertx, LlamaCppOptions options, String workerId, int slots, int port, RpcPool pool,
                        HttpClient client, Gate gate) {
    this.vertx = vertx;
    this.options = options;
    this.workerId = workerId;
    this.slots = slots;
    this.port = port;
    this.pool = pool;
    this.client = client;
    this.gate = gate;
  }

  /** Starts the pool, gives it one round of checks, then llama-server on whatever it found. */
  Future<Void> start() {
    pool.onChange(members -> scheduleRestart());
    pool.start();
    Promise<Void> settled = Promise.promise();
    vertx.setTimer(options.getRpcPool().getCheckIntervalMs() * 2 + 500, id -> settled.complete());
    return settled.future().compose(v -> launch(pool.members())).onSuccess(v -> {
      started = true;
      if (!pool.members().equals(runningOn)) {
        scheduleRestart();
      }
    });
  }

  /** The rpc endpoints the running llama-server uses. */
  List<String> runningOn() {
    return runningOn;
  }

  private List<String> command(List<String> members) {
    List<String> command = new ArrayList<>(List.of(options.getServerBin(), "-m", options.getModelPath(),
        "--host", "127.0.0.1", "--port", Integer.toString(port), "-np", Integer.toString(slots),
        "-c", Integer.toString(options.getContextSize() * slots), "--metrics", "--no-webui"));
    if (options.getThreads() > 0) {
      command.addAll(List.of("-t", Integer.toString(options.getThreads())));
    }
    if (!members.isEmpty()) {
      command.addAll(List.of("--rpc", String.join(",", members), "-ngl", "999"));
    }
    return command;
  }

  private Future<Void> launch(List<String> members) {
    List<String> command = command(members);
    return SupervisedProcess.start(vertx, command, "llama-server-" + port).compose(process -> {
      current = process;
      pool.inUse(!members.isEmpty());
      process.exited().onSuccess(status -> onExit(process, status));
      return awaitHealthy(process).onSuccess(v -> {
        runningOn = members;
        log.info("llama-server started", kv("workerId", workerId), kv("port", port), kv("rpc", members),
            kv("pid", process.pid()));
      });
    });
  }

  private Future<Void> awaitHealthy(SupervisedProcess process) {
    Promise<Void> healthy = Promise.promise();
    long deadline = System.currentTimeMillis() + options.getStartupTimeoutMs();
    checkHealth(process, healthy, deadline);
    return healthy.future();
  }

  private void checkHealth(SupervisedProcess process, Promise<Void> healthy, long deadline) {
    if (process.exited().isComplete()) {
      healthy.tryFail("llama-server exited with status " + process.exited().result() + " while starting: "
          + process.tail(5));
      return;
    }
    if (System.currentTimeMillis() > deadline) {
      process.stop(vertx);
      healthy.tryFail("llama-server did not become healthy within " + options.getStartupTimeoutMs() + " ms: "
          + process.tail(5));
      return;
    }
    client.request(new RequestOptions().setHost("127.0.0.1").setPort(port).setMethod(HttpMethod.GET)
            .setURI("/health"))
        .compose(req -> req.send().map(resp -> resp.statusCode()))
        .onComplete(done -> {
          if (done.succeeded() && done.result() == 200) {
            healthy.tryComplete();
          } else {
            vertx.setTimer(HEALTH_RETRY_MS, id -> checkHealth(process, healthy, deadline));
          }
        });
  }

  private void scheduleRestart() {
    if (stopping || !started) {
      // Before the first launch completes, start() itself compares the pool with what it launched on.
      return;
    }
    if (debounceTimer >= 0) {
      vertx.cancelTimer(debounceTimer);
    }
    debounceTimer = vertx.setTimer(Math.max(1, options.getRestartDebounceMs()), id -> {
      debounceTimer = -1;
      List<String> members = pool.members();
      if (!members.equals(runningOn) && !restarting) {
        restart("the rpc pool changed from " + runningOn + " to " + members);
      }
    });
  }

  private void restart(String why) {
    restarting = true;
    log.info("restarting llama-server", kv("workerId", workerId), kv("reason", why));
    SupervisedProcess old = current;
    current = null;
    gate.close(options.getRestartDrainMs())
        .compose(v -> old == null ? Future.succeededFuture() : old.stop(vertx))
        .compose(v -> {
          pool.inUse(false);
          return pool.revalidate();
        })
        .compose(this::launch)
        .onComplete(done -> {
          restarting = false;
          if (done.succeeded()) {
            crashBackoffMs = 1000;
            gate.open();
            if (!pool.members().equals(runningOn)) {
              scheduleRestart();
            }
          } else {
            log.warn("llama-server restart failed; trying again", kv("workerId", workerId),
                kv("reason", done.cause().getMessage()), kv("retryInMs", crashBackoffMs));
            long delay = crashBackoffMs;
            crashBackoffMs = Math.min(MAX_CRASH_BACKOFF_MS, crashBackoffMs * 2);
            vertx.setTimer(delay, id -> {
              if (!stopping) {
                restart("the last restart failed");
              }
            });
          }
        });
  }

  private void onExit(SupervisedProcess process, int status) {
    if (stopping || process != current || restarting) {
      return;
    }
    log.warn("llama-server exited unexpectedly", kv("workerId", workerId), kv("status", status),
        kv("lastOutput", process.tail(5)));
    restart("it exited with status " + status);
  }

  Future<Void> stop() {
    stopping = true;
    if (debounceTimer >= 0) {
      vertx.cancelTimer(debounceTimer);
    }
    pool.stop();
    SupervisedProcess process = current;
    return process == null ? Future.succeededFuture() : process.stop(vertx);
  }

  /** For tests and admin: the llama-server pid now, or -1. */
  long pid() {
    SupervisedProcess process = current;
    return process == null ? -1 : process.pid();
  }
}
