package io.switchboard.worker.rpc;

import io.switchboard.protocol.DiscoveryTrust;
import io.switchboard.protocol.RpcBackendRecord;
import io.switchboard.worker.discovery.PublishedRecord;
import io.switchboard.worker.process.SupervisedProcess;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.servicediscovery.Record;
import io.vertx.servicediscovery.ServiceDiscovery;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The rpc-agent role: runs a local ggml-rpc-server, and announces it to the cluster (a {@code ggml-rpc}
 * discovery record) only while it answers the ggml RPC handshake. When the server exits, the record is
 * withdrawn at once and the server restarted after a backoff that doubles up to a limit (and starts over once
 * a run lasted a minute). The first start must succeed, so a wrong binary or a port in use stops the node
 * with the reason instead of looping quietly.
 */
public final class RpcAgentVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(RpcAgentVerticle.class);
  private static final long HANDSHAKE_RETRY_MS = 200;
  /** A run this long counts as healthy: the next crash restarts after the shortest backoff again. */
  private static final long STABLE_RUN_MS = 60_000;

  private final RpcAgentOptions options;
  private final String host;
  private final String nodeId;
  private final String agentId;
  private final DiscoveryTrust trust;
  private RpcProbe probe;
  private ServiceDiscovery discovery;
  private SupervisedProcess current;
  private PublishedRecord record;
  private boolean started;
  private boolean stopping;
  private long backoffMs;
  private long restartTimer = -1;
  private long runStartedMs;

  /**
   * @param options validated options, with a binary
   * @param host    the address to bind and publish (the launcher defaults it to the cluster host)
   * @param nodeId  this node's cluster id
   * @param trust   signs the record when the cluster signs its records
   */
  public RpcAgentVerticle(RpcAgentOptions options, String host, String nodeId, DiscoveryTrust trust) {
    this.trust = trust;
    this.options = options;
    this.host = host;
    this.nodeId = nodeId;
    this.agentId = "rpc-" + host + "-" + options.getPort();
    this.backoffMs = options.getRestartBackoffMs();
  }

  @Override
  public Future<?> start() {
    probe = new RpcProbe(vertx);
    discovery = ServiceDiscovery.create(vertx);
    record = new PublishedRecord(vertx, discovery, "rpc-server " + agentId, trust);
    Path bin = Path.of(options.getServerBin());
    return vertx.executeBlocking(() -> Files.isRegularFile(bin) && Files.isExecutable(bin), false)
        .compose(executable -> executable ? launch() : Future.failedFuture(new IllegalStateException(
            "rpcAgent.serverBin " + bin + " is not an executable file (tools/build-llama-cpp builds "
                + "ggml-rpc-server)")))
        .onSuccess(v -> started = true)
        .onFailure(failure -> {
          // The node stops with this reason: no restart loop, no process left behind.
          stopping = true;
          if (current != null) {
            current.stop(vertx);
          }
        });
  }

  /** Starts the server, waits for its handshake, publishes it. */
  private Future<Void> launch() {
    return SupervisedProcess.start(vertx, command(), "rpc-server-" + options.getPort()).compose(process -> {
      current = process;
      runStartedMs = System.currentTimeMillis();
      process.exited().onSuccess(status -> onExit(process, status));
      return awaitHandshake(process).compose(result -> publish(process, result));
    });
  }

  private List<String> command() {
    List<String> command = new ArrayList<>(List.of(options.getServerBin(), "-H", host, "-p",
        Integer.toString(options.getPort())));
    if (options.getThreads() > 0) {
      command.addAll(List.of("-t", Integer.toString(options.getThreads())));
    }
    if (!options.getDevices().isEmpty()) {
      command.addAll(List.of("-d", String.join(",", options.getDevices())));
    }
    return command;
  }

  private Future<RpcProbeResult> awaitHandshake(SupervisedProcess process) {
    Promise<RpcProbeResult> ready = Promise.promise();
    long deadline = System.currentTimeMillis() + options.getStartTimeoutMs();
    tryHandshake(process, ready, deadline);
    return ready.future();
  }

  private void tryHandshake(SupervisedProcess process, Promise<RpcProbeResult> ready, long deadline) {
    probe.handshake(host, options.getPort()).onComplete(done -> {
      RpcProbeResult result = done.result();
      if (result != null && result.accepted()) {
        ready.tryComplete(result);
      } else if (process.exited().isComplete()) {
        ready.tryFail("ggml-rpc-server exited with status " + process.exited().result() + " before it answered: "
            + process.tail(5));
      } else if (System.currentTimeMillis() > deadline) {
        process.stop(vertx);
        ready.tryFail("ggml-rpc-server on " + host + ":" + options.getPort() + " did not pass the handshake within "
            + options.getStartTimeoutMs() + " ms: " + (result == null ? done.cause() : result.reason()));
      } else {
        vertx.setTimer(HANDSHAKE_RETRY_MS, id -> tryHandshake(process, ready, deadline));
      }
    });
  }

  private Future<Void> publish(SupervisedProcess process, RpcProbeResult result) {
    JsonArray devices = new JsonArray();
    result.devices().forEach(d -> devices.add(new JsonObject().put("freeBytes", d.freeBytes())
        .put("totalBytes", d.totalBytes())));
    RpcBackendRecord backend = new RpcBackendRecord(agentId, nodeId, host, options.getPort(), result.version(),
        devices, process.pid());
    return record.publish(new Record().setType(RpcBackendRecord.RECORD_TYPE).setName(backend.recordName())
            .setLocation(new JsonObject().put("endpoint", backend.endpoint())).setMetadata(backend.toJson()))
        .onSuccess(v -> log.info("rpc-server published", kv("node", nodeId), kv("endpoint", backend.endpoint()),
            kv("protocolVersion", result.version()), kv("devices", devices.size()), kv("pid", backend.pid())));
  }

  private void onExit(SupervisedProcess process, int status) {
    if (!started || stopping || process != current) {
      // A first start that fails is reported by start(); a stopping agent restarts nothing.
      return;
    }
    current = null;
    if (System.currentTimeMillis() - runStartedMs > STABLE_RUN_MS) {
      backoffMs = options.getRestartBackoffMs();
    }
    long delay = backoffMs;
    backoffMs = Math.min(options.getMaxRestartBackoffMs(), backoffMs * 2);
    log.warn("rpc-server exited; withdrawn from the cluster, restarting", kv("node", nodeId),
        kv("endpoint", host + ":" + options.getPort()), kv("status", status), kv("restartInMs", delay),
        kv("lastOutput", process.tail(5)));
    unpublish().onComplete(v -> restartTimer = vertx.setTimer(delay, id -> restart()));
  }

  private void restart() {
    restartTimer = -1;
    if (stopping) {
      return;
    }
    launch().onFailure(failure -> {
      long delay = backoffMs;
      backoffMs = Math.min(options.getMaxRestartBackoffMs(), backoffMs * 2);
      log.warn("rpc-server restart failed; trying again", kv("node", nodeId),
          kv("endpoint", host + ":" + options.getPort()), kv("reason", failure.getMessage()),
          kv("restartInMs", delay));
      if (current != null) {
        current.stop(vertx);
        current = null;
      }
      restartTimer = vertx.setTimer(delay, id -> restart());
    });
  }

  private Future<Void> unpublish() {
    return record.unpublish().recover(failure -> Future.succeededFuture());
  }

  /** Withdraws the record first, then stops the server; every step runs whatever the one before did. */
  @Override
  public Future<?> stop() {
    stopping = true;
    if (restartTimer >= 0) {
      vertx.cancelTimer(restartTimer);
    }
    SupervisedProcess process = current;
    return unpublish()
        .transform(v -> process == null ? Future.succeededFuture() : process.stop(vertx))
        .transform(v -> {
          discovery.close();
          log.info("rpc-agent stopped", kv("node", nodeId), kv("endpoint", host + ":" + options.getPort()));
          return Future.succeededFuture();
        });
  }
}
