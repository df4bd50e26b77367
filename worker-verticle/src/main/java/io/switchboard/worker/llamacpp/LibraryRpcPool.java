package io.switchboard.worker.llamacpp;

import io.switchboard.protocol.DiscoveryTrust;
import io.switchboard.protocol.RpcPoolRoom;
import io.switchboard.worker.rpc.RpcPool;
import io.switchboard.worker.rpc.RpcProbe;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.function.Consumer;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The rpc pool of a model directory worker ({@code llamacpp.modelsOverRpcPool}): the same {@link RpcPool} as the
 * {@code --model} worker's (cluster records, static list, optional scan; handshake to join), given one round of checks
 * before the worker takes requests, as {@link LlamaServerSupervisor} does. The engine asks it for the members to pass
 * a llama-server it starts, tells it whether one of its llama-servers holds the members (then they are not probed:
 * an rpc-server serves one client at a time), and hears the members once a change has held for
 * {@code restartDebounceMs} (the {@code --model} worker's debounce). Its {@link #room()} goes in the catalog. Used only
 * on the worker's event loop.
 */
final class LibraryRpcPool {

  private static final Logger log = LoggerFactory.getLogger(LibraryRpcPool.class);

  private final Vertx vertx;
  private final LlamaCppOptions options;
  private final String workerId;
  private final RpcPool pool;
  private long debounceTimer = -1;
  private boolean stopped;

  LibraryRpcPool(Vertx vertx, LlamaCppOptions options, String workerId, DiscoveryTrust trust) {
    this.vertx = vertx;
    this.options = options;
    this.workerId = workerId;
    this.pool = new RpcPool(vertx, new RpcProbe(vertx), options.getRpcPool(), trust);
  }

  /**
   * Starts the pool and completes after one round of checks (so the first model loads over the rpc-servers already
   * there); {@code changed} hears the members whenever a change has held for {@code restartDebounceMs}.
   */
  Future<Void> start(Consumer<List<String>> changed) {
    pool.onChange(members -> {
      if (debounceTimer >= 0) {
        vertx.cancelTimer(debounceTimer);
      }
      debounceTimer = vertx.setTimer(Math.max(1, options.getRestartDebounceMs()), id -> {
        debounceTimer = -1;
        if (!stopped) {
          changed.accept(pool.members());
        }
      });
    });
    pool.start();
    Promise<Void> settled = Promise.promise();
    vertx.setTimer(options.getRpcPool().getCheckIntervalMs() * 2 + 500, id -> settled.complete());
    return settled.future().onSuccess(v -> log.info("rpc pool of the model directory ready", kv("workerId", workerId),
        kv("rpc", pool.members()), kv("room", room().toJson().encode())));
  }

  /** The members now, in the order llama-server's {@code --rpc} gets them; empty: models load locally. */
  List<String> members() {
    return pool.members();
  }

  /** The members and their device memory, summed, for the catalog. */
  RpcPoolRoom room() {
    return pool.room();
  }

  /** Whether a llama-server of this worker holds the members now (then nothing probes them). */
  void inUse(boolean inUse) {
    pool.inUse(inUse);
  }

  /**
   * Checks every member with a handshake (call only when no llama-server of this worker holds them: after one that
   * ran over them failed), so one that died leaves before the next load.
   */
  Future<List<String>> revalidate() {
    pool.inUse(false);
    return pool.revalidate();
  }

  /**
   * Puts the pool in the engine's status as the {@code --model} worker does: {@code rpcPool} (every candidate with
   * its state and device memory, which the dashboard's rpc pool panel draws) and {@code rpcPoolRejectedRecords}.
   */
  JsonObject addTo(JsonObject status) {
    status.put("rpcPool", pool.toJson()).put("rpcPoolRoom", room().toJson());
    if (pool.refusedRecords().size() > 0) {
      status.put("rpcPoolRejectedRecords", pool.refusedRecords().toJson());
    }
    return status;
  }

  void stop() {
    stopped = true;
    if (debounceTimer >= 0) {
      vertx.cancelTimer(debounceTimer);
    }
    pool.stop();
  }
}
