package io.switchboard.gateway;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.gateway.admission.AdmissionQueue;
import io.switchboard.gateway.resilience.RetryBackoff;
import io.switchboard.gateway.resilience.WorkerCircuits;
import io.switchboard.gateway.api.AdminAuth;
import io.switchboard.gateway.api.AdminHandlers;
import io.switchboard.gateway.api.ClusterHandlers;
import io.switchboard.gateway.api.DashboardHandlers;
import io.switchboard.gateway.api.CompletionsHandler;
import io.switchboard.gateway.api.ErrorResponder;
import io.switchboard.gateway.api.GatewayServices;
import io.switchboard.gateway.api.InFlightRequests;
import io.switchboard.gateway.metrics.ClusterGauges;
import io.switchboard.gateway.tracing.RequestSpans;
import io.switchboard.gateway.metrics.GatewayMetrics;
import io.switchboard.gateway.plane.EventBusRequestPlane;
import io.switchboard.gateway.plane.GrpcRequestPlane;
import io.switchboard.gateway.plane.RequestPlane;
import io.switchboard.gateway.registry.GatewayDirectory;
import io.switchboard.gateway.registry.RpcBackendDirectory;
import io.switchboard.gateway.registry.WorkerRegistry;
import io.switchboard.gateway.routing.PrefixAwarePolicy;
import io.switchboard.gateway.routing.PrefixSharing;
import io.switchboard.gateway.routing.WorkerRouter;
import io.switchboard.protocol.GatewayReport;
import io.switchboard.protocol.RequestKind;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The gateway: the OpenAI-compatible HTTP API in front of the cluster's workers. Wires the registry, the
 * routing policy, the request plane and the HTTP routes together; each of those does its own job.
 */
public class GatewayVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(GatewayVerticle.class);

  private final GatewayOptions options;
  private final ClusterView cluster;
  private final PrometheusMeterRegistry meterRegistry;
  private WorkerRegistry registry;
  private RequestPlane plane;
  private GatewayDirectory directory;
  private RpcBackendDirectory rpcBackends;
  private PrefixSharing prefixSharing;
  private AdmissionQueue admission;
  private HttpServer server;
  private long gaugeTimer = -1;
  private RequestSpans spans;

  public GatewayVerticle(GatewayOptions options, ClusterView cluster, PrometheusMeterRegistry meterRegistry) {
    this.options = options;
    this.cluster = cluster;
    this.meterRegistry = meterRegistry;
  }

  @Override
  public Future<?> start() {
    registry = new WorkerRegistry(vertx, options, () -> cluster.tracksMembers() ? cluster.memberIds() : null);
    String gatewayId = UUID.randomUUID().toString();
    plane = GrpcRequestPlane.NAME.equals(options.getRequestPlane())
        ? new GrpcRequestPlane(vertx, options)
        : new EventBusRequestPlane(vertx, options, gatewayId);
    directory = new GatewayDirectory(vertx, () -> new GatewayReport(gatewayId, cluster.localNodeId(), plane.name(),
        options.getRoutingPolicy(), options.getHost() + ":" + actualPort(), plane.openStreams(),
        System.currentTimeMillis()));
    registry.onWorkerGone(plane::workerGone);
    registry.onNodeGone(plane::nodeGone);
    GatewayMetrics metrics = new GatewayMetrics(meterRegistry, plane::openStreams);
    prefixSharing = new PrefixSharing(vertx, gatewayId, bytes -> metrics.prefixesShared("sent", bytes),
        bytes -> metrics.prefixesShared("received", bytes));
    PrefixAwarePolicy.Listener share = options.getRouter().isSharePrefixes()
        ? (model, workerId, blocks) -> {
          if (directory.othersPresent()) {
            prefixSharing.recorded(model, workerId, blocks);
          }
        }
        : null;
    WorkerRouter workerRouter = new WorkerRouter(options::policyOf, options.getRouter(), System::nanoTime, share);
    admission = new AdmissionQueue(vertx, options.getAdmissionQueueSize(), 250);
    spans = options.getOtlpTracesEndpoint() == null ? RequestSpans.propagateOnly()
        : RequestSpans.exportingTo(options.getOtlpTracesEndpoint(), cluster.localNodeId());
    GatewayServices services = new GatewayServices(options, registry, workerRouter,
        plane, metrics, admission, new WorkerCircuits(options.getCircuitFailureThreshold(), options.getCircuitOpenMs(),
            System::nanoTime),
        new RetryBackoff(options.getRetryBackoffMs(), () -> ThreadLocalRandom.current().nextDouble()),
        new InFlightRequests(), spans,
        cluster.localNodeId(), plane.replyAddress());
    Router router = router(services);
    ClusterGauges gauges = new ClusterGauges(meterRegistry);
    gaugeTimer = vertx.setPeriodic(1000, id -> gauges.update(registry.allWorkers(),
        workerId -> services.circuits().status(workerId).getString("state"), admission.waitingByModel(),
        cluster.memberIds().size()));
    return registry.start()
        .compose(v -> options.getRouter().isSharePrefixes() ? prefixSharing.start(workerRouter)
            : Future.succeededFuture())
        .compose(v -> plane.start())
        .compose(v -> vertx.createHttpServer(new HttpServerOptions()
                .setHost(options.getHost())
                .setPort(options.getHttpPort())
                .setCompressionSupported(false))
            .requestHandler(router)
            .listen())
        .compose(listening -> {
          server = listening;
          return directory.start().map(listening);
        })
        .onSuccess(listening -> {
          log.info("gateway listening", kv("host", options.getHost()), kv("port", listening.actualPort()),
              kv("requestPlane", plane.name()), kv("routingPolicy", options.getRoutingPolicy()),
              kv("node", cluster.localNodeId()));
        })
        .onFailure(failure -> log.error("gateway failed to start", kv("host", options.getHost()),
            kv("port", options.getHttpPort()), kv("reason", String.valueOf(failure.getMessage()))));
  }

  private Router router(GatewayServices services) {
    Router router = Router.router(vertx);
    ErrorResponder errors = new ErrorResponder(options.getMaxBodyBytes());
    rpcBackends = new RpcBackendDirectory(vertx);
    ClusterHandlers cluster = new ClusterHandlers(services, this.cluster, directory, rpcBackends);
    BodyHandler body = BodyHandler.create(false).setBodyLimit(options.getMaxBodyBytes());
    router.post("/v1/chat/completions").handler(body).handler(new CompletionsHandler(services, RequestKind.CHAT));
    router.post("/v1/completions").handler(body).handler(new CompletionsHandler(services, RequestKind.COMPLETION));
    router.post("/v1/embeddings").handler(body).handler(new CompletionsHandler(services, RequestKind.EMBEDDING));
    router.get("/v1/models").handler(cluster::models);
    router.get("/health").handler(cluster::health);
    router.get("/live").handler(cluster::live);
    AdminAuth adminAuth = new AdminAuth(options.getAdminKey());
    AdminHandlers admin = new AdminHandlers(vertx, services);
    DashboardHandlers dashboard = new DashboardHandlers(vertx, services, cluster);
    router.route("/admin/*").handler(adminAuth);
    router.route("/dashboard*").handler(adminAuth);
    router.get("/dashboard").handler(dashboard::page);
    router.get("/dashboard/events").handler(dashboard::events);
    router.get("/admin/cluster").handler(cluster::admin);
    router.get("/admin/requests").handler(admin::requests);
    router.post("/admin/workers/:workerId/drain").handler(admin::drain);
    router.post("/admin/workers/:workerId/undrain").handler(admin::undrain);
    router.get("/metrics").handler(PrometheusScrapingHandler.create(meterRegistry));
    router.route().failureHandler(errors);
    router.errorHandler(404, errors);
    router.errorHandler(405, errors);
    router.errorHandler(413, errors);
    router.errorHandler(500, errors);
    return router;
  }

  /** The port the API listens on (useful when configured as 0). */
  public int actualPort() {
    return server == null ? -1 : server.actualPort();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(gaugeTimer);
    // Graceful: no new connections; requests in progress (streams included) get up to drainTimeoutMs to finish.
    Future<Void> closed = server == null ? Future.succeededFuture()
        : server.shutdown(options.getDrainTimeoutMs(), java.util.concurrent.TimeUnit.MILLISECONDS);
    if (server != null) {
      log.info("gateway draining: no new connections; waiting for open requests",
          kv("openStreams", plane == null ? 0 : plane.openStreams()), kv("drainTimeoutMs", options.getDrainTimeoutMs()));
    }
    return closed
        .transform(v -> directory == null ? Future.succeededFuture() : directory.stop())
        .transform(v -> prefixSharing == null ? Future.succeededFuture() : prefixSharing.stop())
        .transform(v -> {
          if (admission != null) {
            admission.close();
          }
          return Future.succeededFuture();
        })
        .transform(v -> {
          if (rpcBackends != null) {
            rpcBackends.close();
          }
          return Future.succeededFuture();
        })
        .transform(v -> plane == null ? Future.succeededFuture() : plane.stop())
        .transform(v -> registry == null ? Future.succeededFuture() : registry.stop())
        // Flushing buffered spans is a blocking HTTP call: not on the event loop.
        .transform(v -> spans == null || !spans.exporting() ? Future.succeededFuture()
            : vertx.executeBlocking(() -> {
              spans.close();
              return null;
            }));
  }
}
