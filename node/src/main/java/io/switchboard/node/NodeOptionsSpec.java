package io.switchboard.node;

import io.switchboard.gateway.config.GatewayOptions;
import io.switchboard.protocol.PlaneMessageLimit;
import io.switchboard.runtime.config.GenerateOptions;
import io.switchboard.runtime.config.OptionChecks;
import io.switchboard.runtime.config.ReadByHand;
import io.switchboard.worker.WorkerOptions;
import io.switchboard.worker.plane.GrpcPlaneOptions;
import io.switchboard.worker.rpc.RpcAgentOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Everything a node runs with, typed and validated: its roles, the cluster it joins, its gateway settings and
 * its workers. Built only by {@link NodeConfigLoader}.
 */
@GenerateOptions
public abstract class NodeOptionsSpec {

  public static final String ROLE_GATEWAY = "gateway";
  public static final String ROLE_WORKER = "worker";
  public static final String ROLE_RPC_AGENT = "rpc-agent";
  public static final Set<String> ROLES = Set.of(ROLE_GATEWAY, ROLE_WORKER, ROLE_RPC_AGENT);
  public static final List<String> DEFAULT_ROLES = List.of(ROLE_GATEWAY, ROLE_WORKER);
  public static final String DEFAULT_LOG_FORMAT = "json";
  public static final Set<String> LOG_FORMATS = Set.of("json", "text");
  /** Longest a stopping node waits for its workers to drain and the cluster to be left. */
  public static final long DEFAULT_SHUTDOWN_TIMEOUT_MS = 40_000;
  public static final String DEFAULT_TRANSPORT = NetworkTransportChoice.AUTO;
  /**
   * {@value #AUTO_EVENT_LOOPS}: one event loop per core but one, and at least one. The node runs one gateway instance
   * per loop; the core left over is for the JVM's collector and compiler and the cluster's own threads. On 2 cores
   * that is one loop, where a second measured no gain (docs/performance.md, "Many cores").
   */
  public static final String AUTO_EVENT_LOOPS = "auto";
  public static final String DEFAULT_EVENT_LOOPS = AUTO_EVENT_LOOPS;
  public static final int MAX_EVENT_LOOPS = 1024;

  // The node section's settings: read and written by hand, under the section's own key "node".
  @ReadByHand
  Set<String> roles = new LinkedHashSet<>(DEFAULT_ROLES);
  @ReadByHand
  String logFormat = DEFAULT_LOG_FORMAT;
  @ReadByHand
  long shutdownTimeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS;
  @ReadByHand
  String transport = DEFAULT_TRANSPORT;
  /** "auto" or a number, as configured; {@link #getEventLoops()} resolves it. */
  @ReadByHand
  String eventLoops = DEFAULT_EVENT_LOOPS;
  ClusterOptions cluster = new ClusterOptions();
  GatewayOptions gateway = new GatewayOptions();
  GrpcPlaneOptions grpc = new GrpcPlaneOptions();
  RpcAgentOptions rpcAgent = new RpcAgentOptions();
  List<WorkerOptions> workers = new ArrayList<>(List.of(new WorkerOptions()));

  /**
   * The {@code node} section is read and written by hand: it is a section of its own in the config, not a setting,
   * and {@code eventLoops} is "auto" or a number.
   */
  protected void readJson(JsonObject json) {
    JsonObject node = json.getJsonObject("node", new JsonObject());
    JsonArray roleList = node.getJsonArray("roles");
    roles = roleList == null ? new LinkedHashSet<>(DEFAULT_ROLES)
        : new LinkedHashSet<>(roleList.stream().map(String::valueOf).map(String::trim).toList());
    logFormat = node.getString("logFormat", DEFAULT_LOG_FORMAT);
    shutdownTimeoutMs = node.getLong("shutdownTimeoutMs", DEFAULT_SHUTDOWN_TIMEOUT_MS);
    transport = node.getString("transport", DEFAULT_TRANSPORT);
    eventLoops = String.valueOf(node.getValue("eventLoops", DEFAULT_EVENT_LOOPS)).trim();
  }

  protected void writeJson(JsonObject json) {
    json.put("node", new JsonObject()
        .put("roles", new JsonArray(List.copyOf(roles)))
        .put("logFormat", logFormat)
        .put("shutdownTimeoutMs", shutdownTimeoutMs)
        .put("transport", transport)
        .put("eventLoops", eventLoops));
  }

  /** Fails with a message naming the key and the allowed values. */
  public void validate() {
    if (roles.isEmpty()) {
      throw new IllegalArgumentException("node.roles must name at least one role of " + ROLES);
    }
    for (String role : roles) {
      if (!ROLES.contains(role)) {
        throw new IllegalArgumentException("node.roles holds unknown role '" + role + "' (allowed: gateway, worker, rpc-agent)");
      }
    }
    OptionChecks.oneOf("node.logFormat", logFormat, LOG_FORMATS);
    OptionChecks.atLeast("node.shutdownTimeoutMs", shutdownTimeoutMs, 1000);
    if (!NetworkTransportChoice.NAMES.contains(transport)) {
      throw new IllegalArgumentException("node.transport must be one of auto, io_uring, epoll, nio, got '" + transport
          + "' (auto takes the fastest this machine can run)");
    }
    if (!AUTO_EVENT_LOOPS.equals(eventLoops)) {
      int loops;
      try {
        loops = Integer.parseInt(eventLoops);
      } catch (NumberFormatException notANumber) {
        throw new IllegalArgumentException("node.eventLoops must be 'auto' or a number between 1 and " + MAX_EVENT_LOOPS
            + ", got '" + eventLoops + "' (auto, the default, runs one loop per core but one, at least 1)");
      }
      if (loops < 1 || loops > MAX_EVENT_LOOPS) {
        throw new IllegalArgumentException("node.eventLoops must be between 1 and " + MAX_EVENT_LOOPS + ", got "
            + loops + " (or 'auto', the default: one loop per core but one, at least 1)");
      }
    }
    cluster.validate("cluster");
    gateway.validate("gateway");
    grpc.validate("grpc");
    if (runsGateway()) {
      validatePlaneCarriesBodies();
    }
    rpcAgent.validate("rpcAgent");
    if (runsRpcAgent()) {
      rpcAgent.validateForRole("rpcAgent");
    }
    if (roles.contains(ROLE_WORKER) && workers.isEmpty()) {
      throw new IllegalArgumentException("workers must list at least one worker when node.roles includes worker");
    }
    Set<String> ids = new LinkedHashSet<>();
    for (int i = 0; i < workers.size(); i++) {
      WorkerOptions worker = workers.get(i);
      worker.validate("workers[" + i + "]");
      if (worker.getId() != null && !ids.add(worker.getId())) {
        throw new IllegalArgumentException("workers[" + i + "].id '" + worker.getId() + "' is used twice");
      }
      if (runsGateway() && runsWorkers() && gateway.getModels().aliases().isAlias(worker.announcedModel())) {
        // An alias named as a served model would hide it: requests for the name would go to the alias's models.
        throw new IllegalArgumentException("gateway.models.aliases." + worker.announcedModel() + " shadows the model "
            + "workers[" + i + "] serves under that name: rename the alias (or the worker's model), so both can be "
            + "asked for");
      }
    }
    List<String> exposed = clusterPlaneBeyondLoopback();
    if (!exposed.isEmpty() && !cluster.eventBusTls() && !cluster.isInsecure()) {
      throw new IllegalArgumentException(String.join(" and ", exposed)
          + (exposed.size() > 1 ? " are not loopback addresses" : " is not a loopback address") + ", and cluster TLS is off: anyone who reaches this node's cluster ports could join "
          + "the cluster, read the prompts and answers that cross it, announce workers and rpc-servers that receive "
          + "them and a model's weights, and send generate requests to workers. Set cluster.tlsCertPath, "
          + "cluster.tlsKeyPath and cluster.tlsCaPath (SWITCHBOARD_CLUSTER_TLS_CERT_PATH, _KEY_PATH, _CA_PATH; "
          + "docs/security.md shows how to make them), or, on a network only your nodes can reach, set "
          + "cluster.insecure: true (SWITCHBOARD_CLUSTER_INSECURE=true)");
    }
  }

  /**
   * The cluster-plane listeners (Hazelcast and the event bus on cluster.host; the gRPC plane on grpc.host when the
   * node runs workers) bound beyond loopback, each as "KEY VALUE"; empty when all are loopback.
   */
  public List<String> clusterPlaneBeyondLoopback() {
    List<String> exposed = new ArrayList<>();
    if (!ClusterOptions.isLoopback(cluster.getHost())) {
      exposed.add("cluster.host " + cluster.getHost());
    }
    if (roles.contains(ROLE_WORKER) && grpc.getHost() != null && !ClusterOptions.isLoopback(grpc.getHost())) {
      exposed.add("grpc.host " + grpc.getHost());
    }
    return exposed;
  }

  /**
   * A gateway checks every request against grpc.maxMessageBytes, on either plane: a limit that cannot carry a body
   * of gateway.maxBodyBytes and the prompt taken from it would refuse requests the gateway just accepted.
   */
  private void validatePlaneCarriesBodies() {
    long least = PlaneMessageLimit.leastFor(gateway.getMaxBodyBytes());
    if (grpc.getMaxMessageBytes() < least) {
      throw new IllegalArgumentException("grpc.maxMessageBytes " + grpc.getMaxMessageBytes() + " cannot carry a "
          + "request of gateway.maxBodyBytes " + gateway.getMaxBodyBytes() + ": a request travels between nodes as "
          + "its body and the prompt taken from it, up to " + least + " bytes. Set grpc.maxMessageBytes to at least "
          + least + " (on every node), or lower gateway.maxBodyBytes");
    }
  }

  public boolean runsGateway() {
    return roles.contains(ROLE_GATEWAY);
  }

  public boolean runsRpcAgent() {
    return roles.contains(ROLE_RPC_AGENT);
  }

  public boolean runsWorkers() {
    return roles.contains(ROLE_WORKER);
  }

  /** How many event loops the node's Vert.x runs (see {@link #DEFAULT_EVENT_LOOPS}). */
  /**
   * How many event loops the node runs, and so how many gateway instances: the configured number, or for "auto" one
   * per core but one (at least 1).
   */
  public int getEventLoops() {
    return AUTO_EVENT_LOOPS.equals(eventLoops) ? autoEventLoops(Runtime.getRuntime().availableProcessors())
        : Integer.parseInt(eventLoops);
  }

  /** What "auto" means on a machine of {@code cores}. */
  static int autoEventLoops(int cores) {
    return Math.max(1, Math.min(MAX_EVENT_LOOPS, cores - 1));
  }

  /** "auto" or the number, as configured. */
  public String getEventLoopsSetting() {
    return eventLoops;
  }
}
