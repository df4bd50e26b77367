package io.switchboard.node;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.gateway.GatewayNodeState;
import io.switchboard.gateway.GatewayVerticle;
import io.switchboard.gateway.config.GatewayOptions;
import io.switchboard.protocol.DiscoveryTrust;
import io.switchboard.protocol.RecordSigner;
import io.switchboard.protocol.RecordVerifier;
import io.switchboard.worker.WorkerOptions;
import io.switchboard.worker.WorkerVerticle;
import io.switchboard.worker.plane.GrpcPlaneOptions;
import io.switchboard.worker.plane.GrpcPlaneServer;
import io.switchboard.worker.rpc.RpcAgentVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.BindException;
import java.util.ArrayList;
import java.util.List;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Runs one node: joins the cluster, starts the node's shared gRPC request-plane server (when it runs workers),
 * deploys its workers and then its gateway, and stops in the reverse order (workers drain first, so a local
 * gateway can still deliver their last tokens; the gRPC server closes once they drained; the cluster is left
 * last).
 */
public final class NodeLauncher {

  private static final Logger log = LoggerFactory.getLogger(NodeLauncher.class);

  private final NodeOptions options;
  private final PrometheusMeterRegistry meterRegistry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final List<String> workerDeployments = new ArrayList<>();
  private ClusteredVertxFactory.ClusteredVertx clustered;
  private Vertx vertx;
  private MembershipWatcher watcher;
  private DiscoveryTrust trust;
  private String rpcAgentDeployment;
  private GrpcPlaneServer grpcPlane;
  private String grpcPlaneDeployment;
  /** The gateway's instances, one per event loop; they share {@link #gatewayState}. */
  private final List<GatewayVerticle> gatewayInstances = new java.util.concurrent.CopyOnWriteArrayList<>();
  private GatewayNodeState gatewayState;
  private String gatewayDeployment;
  private String nodeId;

  public NodeLauncher(NodeOptions options) {
    this.options = options;
  }

  public Future<Void> start() {
    NetworkTransportChoice transport;
    try {
      transport = NetworkTransportChoice.pick(options.getTransport());
    } catch (ConfigException unavailable) {
      return Future.failedFuture(unavailable);
    }
    // With cluster TLS, this node signs the discovery records it publishes and honours only signed ones (the
    // cluster map is writable by anyone who joins Hazelcast). The files are read here, before any event loop runs.
    RecordSigner signer = null;
    RecordVerifier verifier = null;
    ClusterOptions cluster = options.getCluster();
    if (cluster.eventBusTls()) {
      try {
        signer = RecordSigner.load(cluster.peerTls());
        verifier = RecordVerifier.load(cluster.getTlsCaPath());
      } catch (IllegalArgumentException unusable) {
        return Future.failedFuture(new ConfigException("cluster.tlsCertPath / tlsKeyPath / tlsCaPath: "
            + unusable.getMessage()));
      }
    }
    warnIfOpen();
    RecordSigner recordSigner = signer;
    RecordVerifier recordVerifier = verifier;
    return ClusteredVertxFactory.create(options.getCluster(), options.getGateway().getResponses(), transport.transport(), options.getEventLoops(),
        meterRegistry).compose(joined -> {
      clustered = joined;
      vertx = joined.vertx();
      nodeId = joined.nodeId();
      watcher = new MembershipWatcher(vertx, joined.hazelcast());
      watcher.start();
      trust = new DiscoveryTrust(recordSigner, recordVerifier, watcher);
      log.info("joined the cluster", kv("node", nodeId), kv("cluster", options.getCluster().getName()),
          kv("host", options.getCluster().getHost()), kv("members", watcher.memberIds().size()),
          kv("roles", String.join(",", options.getRoles())), kv("transport", transport.transport().name()),
          kv("transportReason", transport.reason()), kv("eventLoops", options.getEventLoops()),
          kv("collector", GarbageCollectorName.current()), kv("clusterTls", cluster.eventBusTls()),
          kv("recordsSigned", trust.requiresSignatures()));
      return deployRpcAgent();
    }).compose(v -> deployGrpcPlane()).compose(v -> deployWorkers()).compose(v -> deployGateway()).recover(failure -> {
      Future<Void> closed = clustered == null ? Future.succeededFuture() : clustered.close();
      return closed.transform(ignored -> Future.failedFuture(explain(failure)));
    });
  }

  /**
   * With {@code cluster.insecure} set and the cluster plane on a network address without TLS, says at every start
   * what anyone on that network can do (validation refused the same settings without {@code cluster.insecure}).
   */
  private void warnIfOpen() {
    List<String> exposed = options.clusterPlaneBeyondLoopback();
    if (exposed.isEmpty() || options.getCluster().eventBusTls()) {
      return;
    }
    log.warn("INSECURE: the cluster plane is plaintext and unauthenticated on a network address (cluster.insecure is "
            + "true). Anyone who can reach these ports can join the cluster (Hazelcast, port "
            + options.getCluster().getPort() + " and up, with the cluster name '" + options.getCluster().getName()
            + "'), announce a worker that receives prompts and an rpc-server that receives a model's weights, read "
            + "every prompt and answer on the event bus and the gRPC plane, send generate requests to workers, and "
            + "rewrite or delete discovery records and rate-limit counters. Set cluster.tlsCertPath, tlsKeyPath and "
            + "tlsCaPath (docs/security.md), and firewall the cluster ports to the cluster's machines",
        kv("listening", String.join(", ", exposed)), kv("cluster", options.getCluster().getName()));
  }

  /** The local ggml-rpc-server, bound to rpcAgent.host (default: the cluster host, which peers reach). */
  private Future<Void> deployRpcAgent() {
    if (!options.runsRpcAgent()) {
      return Future.succeededFuture();
    }
    String host = options.getRpcAgent().getHost() != null ? options.getRpcAgent().getHost()
        : options.getCluster().getHost();
    return vertx.deployVerticle(new RpcAgentVerticle(options.getRpcAgent(), host, nodeId, trust))
        .onSuccess(id -> rpcAgentDeployment = id).mapEmpty();
  }

  /** One gRPC server for every worker of this node; its host defaults to the cluster host. */
  private Future<Void> deployGrpcPlane() {
    if (!options.runsWorkers()) {
      return Future.succeededFuture();
    }
    GrpcPlaneOptions configured = options.getGrpc();
    GrpcPlaneOptions resolved = new GrpcPlaneOptions(configured.toJson());
    if (resolved.getHost() == null) {
      resolved.setHost(options.getCluster().getHost());
    }
    grpcPlane = new GrpcPlaneServer(resolved, nodeId, options.getCluster().peerTls());
    return vertx.deployVerticle(grpcPlane).onSuccess(id -> grpcPlaneDeployment = id).mapEmpty();
  }

  private Future<Void> deployWorkers() {
    if (!options.runsWorkers()) {
      return Future.succeededFuture();
    }
    List<Future<String>> deployed = new ArrayList<>();
    for (WorkerOptions worker : options.getWorkers()) {
      deployed.add(vertx.deployVerticle(new WorkerVerticle(worker, nodeId, grpcPlane, trust))
          .onSuccess(workerDeployments::add));
    }
    return Future.all(deployed).mapEmpty();
  }

  private Future<Void> deployGateway() {
    if (!options.runsGateway()) {
      return Future.succeededFuture();
    }
    int instances = options.getEventLoops();
    gatewayState = new GatewayNodeState(vertx, options.getGateway(), meterRegistry, instances);
    return gatewayState.start().compose(started -> vertx.deployVerticle(() -> {
      GatewayVerticle instance = new GatewayVerticle(options.getGateway(), watcher, meterRegistry,
          options.getCluster().peerTls(), options.getGrpc().messageLimit(), trust, gatewayState);
      gatewayInstances.add(instance);
      return instance;
    }, new DeploymentOptions().setInstances(instances))).onSuccess(id -> gatewayDeployment = id).mapEmpty();
  }

  private Throwable explain(Throwable failure) {
    GatewayOptions gatewayOptions = options.getGateway();
    if (failure instanceof BindException || String.valueOf(failure.getMessage()).contains("Address already in use")) {
      return new IllegalStateException("gateway.httpPort " + gatewayOptions.getHttpPort() + " on "
          + gatewayOptions.getHost() + " is already in use (another Switchboard node or program listens there). "
          + "Pass --http-port N for a second gateway, or --roles worker to add a worker only.", failure);
    }
    return failure;
  }

  /** Drains workers, stops the gateway, leaves the cluster. Every step runs even if one before failed. */
  public Future<Void> stop() {
    if (vertx == null) {
      return Future.succeededFuture();
    }
    log.info("node stopping", kv("node", nodeId));
    List<Future<Void>> undeployed = workerDeployments.stream().map(vertx::undeploy).toList();
    return Future.join(undeployed).<Void>mapEmpty()
        .transform(v -> grpcPlaneDeployment == null ? Future.succeededFuture() : vertx.undeploy(grpcPlaneDeployment))
        .transform(v -> gatewayDeployment == null ? Future.succeededFuture() : vertx.undeploy(gatewayDeployment))
        .transform(v -> {
          if (gatewayState != null) {
            gatewayState.stop();
          }
          return Future.<Void>succeededFuture();
        })
        .transform(v -> rpcAgentDeployment == null ? Future.succeededFuture() : vertx.undeploy(rpcAgentDeployment))
        .transform(v -> watcher == null ? Future.succeededFuture() : watcher.stop())
        .transform(v -> clustered.close())
        .onComplete(done -> log.info("node stopped; left the cluster", kv("node", nodeId)));
  }

  public String nodeId() {
    return nodeId;
  }

  /** The gateway's HTTP port, or -1 when this node runs no gateway. */
  public int gatewayPort() {
    // The instances share one port.
    return gatewayInstances.isEmpty() ? -1 : gatewayInstances.get(0).actualPort();
  }

  public Vertx vertx() {
    return vertx;
  }
}
