package io.switchboard.gateway;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.gateway.admin.AdminAuth;
import io.switchboard.gateway.admin.AdminHandlers;
import io.switchboard.gateway.admin.DashboardHandlers;
import io.switchboard.gateway.admission.AdmissionQueue;
import io.switchboard.gateway.cluster.ClusterHandlers;
import io.switchboard.gateway.cluster.ClusterView;
import io.switchboard.gateway.config.GatewayOptions;
import io.switchboard.gateway.dialect.responses.store.ClusterResponseStore;
import io.switchboard.gateway.dialect.responses.store.LocalResponseStore;
import io.switchboard.gateway.dialect.responses.store.ResponseStore;
import io.switchboard.gateway.dialect.responses.store.ResponseStoreOptions;
import io.switchboard.gateway.exchange.GatewayServices;
import io.switchboard.gateway.http.ErrorResponder;
import io.switchboard.gateway.models.ModelPlacement;
import io.switchboard.gateway.resilience.RetryBackoff;
import io.switchboard.gateway.resilience.WorkerCircuits;
import io.switchboard.gateway.api.RequestValidator;
import io.switchboard.gateway.dialect.messages.AnthropicErrors;
import io.switchboard.gateway.dialect.messages.CountTokensHandler;
import io.switchboard.gateway.dialect.messages.MessagesDialect;
import io.switchboard.gateway.dialect.openai.ChatDialect;
import io.switchboard.gateway.dialect.openai.EmbeddingsDialect;
import io.switchboard.gateway.dialect.responses.ResponsesDialect;
import io.switchboard.gateway.dialect.responses.ResponsesLookup;
import io.switchboard.gateway.exchange.ExchangeListener;
import io.switchboard.gateway.exchange.ExchangeListeners;
import io.switchboard.gateway.exchange.GenerationHandler;
import io.switchboard.gateway.exchange.listeners.AccessLogListener;
import io.switchboard.gateway.exchange.listeners.MetricsListener;
import io.switchboard.gateway.exchange.listeners.SpanListener;
import io.switchboard.gateway.exchange.listeners.TokenChargeListener;
import io.switchboard.gateway.tracing.RequestSpans;
import io.switchboard.gateway.metrics.GatewayMetrics;
import io.switchboard.gateway.plane.EventBusRequestPlane;
import io.switchboard.gateway.plane.GrpcRequestPlane;
import io.switchboard.gateway.plane.RequestPlane;
import io.switchboard.gateway.plane.SameNodeRequestPlane;
import io.switchboard.gateway.registry.GatewayDirectory;
import io.switchboard.gateway.registry.RpcBackendDirectory;
import io.switchboard.gateway.registry.WorkerRegistry;
import io.switchboard.gateway.routing.PrefixAwarePolicy;
import io.switchboard.gateway.routing.PrefixSharing;
import io.switchboard.gateway.routing.WorkerRouter;
import io.switchboard.gateway.security.ApiKeyAuth;
import io.switchboard.gateway.security.ApiKeySource;
import io.switchboard.gateway.security.ConnectionGuard;
import io.switchboard.gateway.security.CrossOriginGuard;
import io.switchboard.gateway.security.HostAllowlist;
import io.switchboard.gateway.security.RequestBounds;
import io.switchboard.gateway.security.InvalidRequestResponder;
import io.switchboard.gateway.security.RateLimiter;
import io.switchboard.protocol.GatewayReport;
import io.switchboard.protocol.DiscoveryTrust;
import io.switchboard.protocol.PlaneMessageLimit;
import io.switchboard.protocol.RequestKind;
import io.switchboard.runtime.time.DeadlineSweep;
import io.switchboard.runtime.tls.PeerTls;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The gateway: the OpenAI-compatible HTTP API in front of the cluster's workers. Wires the registry, the
 * routing policy, the request plane and the HTTP routes together; each of those does its own job.
 *
 * <p>A node runs one instance per event loop (node.eventLoops), all listening on the same port (Vert.x spreads the
 * accepted connections over them). Each instance is a gateway of its own on its own loop (its registry view, request
 * plane and stream table, circuits, admission queue share); what must hold for the node as a whole is in the
 * {@link GatewayNodeState} they share. An instance built without one (tests, a single gateway) makes its own.
 */
public class GatewayVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(GatewayVerticle.class);
  /** How late, at most, a request's first-token timeout fires (the limit is 100 ms or more). */
  private static final long DEADLINE_CHECK_MS = 50;

  private final GatewayOptions options;
  private final ClusterView cluster;
  private final PrometheusMeterRegistry meterRegistry;
  private final PeerTls peerTls;
  private final PlaneMessageLimit messageLimit;
  private final DiscoveryTrust trust;
  /** Given by the node when it runs several instances; else made and owned by this one. */
  private final GatewayNodeState sharedState;
  private GatewayNodeState state;
  private GatewayNodeState.Instance asInstance;
  private WorkerRegistry registry;
  private RequestPlane plane;
  private GatewayDirectory directory;
  private RpcBackendDirectory rpcBackends;
  private PrefixSharing prefixSharing;
  private AdmissionQueue admission;
  /**
   * How long a model load command may take before the gateway gives up on its reply: past a worker's own load timeout
   * (llamacpp.startupTimeoutMs, 120 s by default), which ends the load with its cause first. Requests held for the load
   * wait gateway.admissionTimeoutMs at most.
   */
  private static final long LOAD_COMMAND_TIMEOUT_MS = 150_000;
  private HttpServer server;
  private long gaugeTimer = -1;
  private RequestSpans spans;
  private ConnectionGuard connections;
  private DeadlineSweep deadlines;
  private RequestBounds bounds;

  public GatewayVerticle(GatewayOptions options, ClusterView cluster, PrometheusMeterRegistry meterRegistry) {
    this(options, cluster, meterRegistry, PeerTls.NONE);
  }

  /** @param peerTls TLS to other nodes (the gRPC plane), from the cluster's settings */
  public GatewayVerticle(GatewayOptions options, ClusterView cluster, PrometheusMeterRegistry meterRegistry,
                         PeerTls peerTls) {
    this(options, cluster, meterRegistry, peerTls, PlaneMessageLimit.ofDefault());
  }

  /** @param messageLimit the largest request the planes carry to a worker (grpc.maxMessageBytes) */
  public GatewayVerticle(GatewayOptions options, ClusterView cluster, PrometheusMeterRegistry meterRegistry,
                         PeerTls peerTls, PlaneMessageLimit messageLimit) {
    this(options, cluster, meterRegistry, peerTls, messageLimit, DiscoveryTrust.unclustered());
  }

  /** @param trust which discovery records to act on */
  public GatewayVerticle(GatewayOptions options, ClusterView cluster, PrometheusMeterRegistry meterRegistry,
                         PeerTls peerTls, PlaneMessageLimit messageLimit, DiscoveryTrust trust) {
    this(options, cluster, meterRegistry, peerTls, messageLimit, trust, null);
  }

  /**
   * One of a node's gateway instances.
   *
   * @param sharedState what the node's instances share (started by the node before, stopped after them); null to
   *                    make and own one
   */
  public GatewayVerticle(GatewayOptions options, ClusterView cluster, PrometheusMeterRegistry meterRegistry,
                         PeerTls peerTls, PlaneMessageLimit messageLimit, DiscoveryTrust trust,
                         GatewayNodeState sharedState) {
    this.sharedState = sharedState;
    this.peerTls = peerTls;
    this.messageLimit = messageLimit;
    this.trust = trust;
    this.options = options;
    this.cluster = cluster;
    this.meterRegistry = meterRegistry;
  }

  @Override
  public Future<?> start() {
    state = sharedState != null ? sharedState : new GatewayNodeState(vertx, options, meterRegistry, 1);
    Future<Void> stateStarted = sharedState != null ? Future.succeededFuture() : state.start();
    registry = new WorkerRegistry(vertx, options, () -> cluster.tracksMembers() ? cluster.memberIds() : null,
        trust);
    String gatewayId = UUID.randomUUID().toString();
    RequestPlane betweenNodes = GrpcRequestPlane.NAME.equals(options.getRequestPlane())
        ? new GrpcRequestPlane(vertx, options, peerTls, messageLimit)
        : new EventBusRequestPlane(vertx, options, gatewayId, messageLimit);
    // Workers of this node are called directly on either plane; the others over the configured one.
    plane = new SameNodeRequestPlane(vertx, options, betweenNodes);
    directory = new GatewayDirectory(vertx, () -> new GatewayReport(gatewayId, cluster.localNodeId(), plane.name(),
        options.getRoutingPolicy(), options.getHost() + ":" + actualPort(), plane.openStreams(),
        System.currentTimeMillis()));
    registry.onWorkerGone(plane::workerGone);
    registry.onNodeGone(plane::nodeGone);
    asInstance = new GatewayNodeState.Instance(plane::openStreams, registry::knowsModel);
    GatewayMetrics metrics = state.metrics();
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
    admission = new AdmissionQueue(vertx, state.admissionQueueShare(options.getAdmissionQueueSize()), 250);
    deadlines = new DeadlineSweep(vertx, DEADLINE_CHECK_MS);
    spans = options.getOtlpTracesEndpoint() == null ? RequestSpans.propagateOnly()
        : RequestSpans.exportingTo(options.getOtlpTracesEndpoint(), cluster.localNodeId());
    WorkerCircuits circuits = new WorkerCircuits(options.getCircuitFailureThreshold(), options.getCircuitOpenMs(),
        probeTimeoutMs(options), System::nanoTime, registry::knows);
    registry.onWorkerRemoved(circuits::forget);
    RateLimiter rateLimiter = state.rateLimiter();
    GatewayServices services = new GatewayServices(options, registry, workerRouter,
        plane, metrics, admission, circuits,
        new RetryBackoff(options.getRetryBackoffMs(), () -> ThreadLocalRandom.current().nextDouble()),
        state.inFlight(), spans, rateLimiter,
        exchangeListeners(options, metrics, rateLimiter, cluster.localNodeId()), deadlines,
        cluster.localNodeId(), plane.replyAddress(),
        new ModelPlacement(ModelPlacement.overPlane(vertx, betweenNodes, LOAD_COMMAND_TIMEOUT_MS),
            System::currentTimeMillis));
    gaugeTimer = vertx.setPeriodic(1000, id -> {
      Set<String> served = registry.models();
      state.publishGauges(asInstance, registry.allWorkers(),
          workerId -> services.circuits().status(workerId).getString("state"), admission.waitingByModel(served),
          cluster.memberIds().size(), served);
    });
    connections = new ConnectionGuard(deadlines, options.getLimits(), state.connections(), metrics::refused);
    InvalidRequestResponder invalidRequests = new InvalidRequestResponder(options.getLimits(),
        new HostAllowlist(options.getHost(), options.getAllowedHosts()), options.getHost());
    return stateStarted
        .compose(keys -> {
          Router router = router(services);
          return registry.start().map(router);
        })
        .compose(router -> (options.getRouter().isSharePrefixes() ? prefixSharing.start(workerRouter)
            : Future.succeededFuture()).map(router))
        .compose(router -> plane.start().map(router))
        .compose(router -> vertx.createHttpServer(httpServerOptions())
            .connectionHandler(connections::connected)
            .invalidRequestHandler(invalidRequests)
            .requestHandler(connections.watching(invalidRequests.checkingHost(router)))
            .listen())
        .compose(listening -> {
          server = listening;
          state.joined(asInstance);
          return directory.start().map(listening);
        })
        .onSuccess(listening -> {
          log.info("gateway listening", kv("host", options.getHost()), kv("port", listening.actualPort()),
              kv("instances", state.instances()),
              kv("scheme", options.getTls().enabled() ? "https" : "http"),
              kv("requestPlane", plane.name()), kv("routingPolicy", options.getRoutingPolicy()),
              kv("node", cluster.localNodeId()), kv("maxInFlightBodyBytes", bounds.status()
                  .getLong("maxInFlightBodyBytes")));
        })
        .onFailure(failure -> log.error("gateway failed to start", kv("host", options.getHost()),
            kv("port", options.getHttpPort()), kv("reason", String.valueOf(failure.getMessage()))));
  }

  private HttpServerOptions httpServerOptions() {
    HttpServerOptions server = new HttpServerOptions()
        .setHost(options.getHost())
        .setPort(state.listenPort(options.getHttpPort()))
        .setCompressionSupported(false)
        // The gateway serves no WebSocket: without a WebSocket compression extension on offer, Vert.x leaves its
        // extension handler out of every connection's pipeline, which each read and write went through (perf).
        .setPerMessageWebSocketCompressionSupported(false)
        .setPerFrameWebSocketCompressionSupported(false)
        // Plain HTTP/1.1 from the first byte: h2c detection would hold a connection, unseen by the connection
        // guard, until its first bytes arrive.
        .setHttp2ClearTextEnabled(false)
        // Every response is written on the connection's own event loop (the gateway's context), so writes may
        // skip Vert.x's outbound message queue; a write from another thread would fail instead of being queued.
        .setStrictThreadMode(true)
        .setMaxHeaderSize(options.getLimits().getMaxHeaderBytes())
        .setMaxInitialLineLength(options.getLimits().getMaxUrlBytes());
    if (options.getTls().enabled()) {
      server.setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
          .setCertPath(options.getTls().getCertPath())
          .setKeyPath(options.getTls().getKeyPath()));
    }
    return server;
  }

  private Router router(GatewayServices services) {
    Router router = Router.router(vertx);
    ErrorResponder errors = new ErrorResponder(options.getMaxBodyBytes());
    rpcBackends = new RpcBackendDirectory(vertx, trust);
    ClusterHandlers cluster = new ClusterHandlers(services, this.cluster, directory, rpcBackends,
        () -> safeguards(services), () -> !state.apiKeys().current().isEmpty());
    BodyHandler body = BodyHandler.create(false).setBodyLimit(options.getMaxBodyBytes());
    // Anthropic's Messages API answers every error in its own shape, a refused key included: installed first.
    router.route("/v1/messages*").handler(AnthropicErrors.INSTANCE.installer());
    // Origins before keys: a browser's preflight carries no key, and a refused page learns nothing more.
    router.route("/v1/*").handler(CrossOriginGuard.forApi(options.getCors()))
        .handler(new ApiKeyAuth(state.apiKeys()::current, options.getRateLimits(), services.metrics()::refused));
    bounds = new RequestBounds(state.bodies(), state.keyConcurrency(), options.getMaxBodyBytes(),
        services.metrics()::refused, meterRegistry);
    // Only on the generation routes, so an unknown path or method keeps its 404 or 405. Vert.x wants a route's
    // body handler first, hence a route of its own.
    router.postWithRegex("/v1/(chat/completions|completions|embeddings|responses|messages|messages/count_tokens)")
        .handler(bounds);
    RequestValidator validator = new RequestValidator(options.getLimits());
    router.post("/v1/chat/completions").handler(body)
        .handler(new GenerationHandler(services, new ChatDialect(RequestKind.CHAT, validator)));
    router.post("/v1/completions").handler(body)
        .handler(new GenerationHandler(services, new ChatDialect(RequestKind.COMPLETION, validator)));
    router.post("/v1/embeddings").handler(body).handler(new GenerationHandler(services, new EmbeddingsDialect(validator)));
    ResponseStore responses = responseStore();
    router.post("/v1/responses").handler(body)
        .handler(new GenerationHandler(services, new ResponsesDialect(validator, responses)));
    ResponsesLookup lookup = new ResponsesLookup(responses);
    router.get("/v1/responses/:id").handler(lookup::get);
    router.delete("/v1/responses/:id").handler(lookup::delete);
    router.post("/v1/messages").handler(body).handler(new GenerationHandler(services, new MessagesDialect(validator)));
    router.post("/v1/messages/count_tokens").handler(body).handler(new CountTokensHandler(services, validator));
    router.get("/v1/models").handler(cluster::models);
    router.get("/health").handler(cluster::health);
    router.get("/live").handler(cluster::live);
    AdminAuth adminAuth = new AdminAuth(options.getAdminKey(), () -> !state.apiKeys().current().isEmpty());
    AdminHandlers admin = new AdminHandlers(vertx, services);
    DashboardHandlers dashboard = new DashboardHandlers(vertx, services, cluster);
    CrossOriginGuard ownOriginOnly = CrossOriginGuard.sameOriginOnly();
    router.route("/admin/*").handler(ownOriginOnly).handler(adminAuth);
    router.route("/dashboard*").handler(ownOriginOnly).handler(adminAuth);
    router.get("/dashboard").handler(dashboard::page);
    router.get("/dashboard/events").handler(dashboard::events);
    router.get("/admin/cluster").handler(cluster::admin);
    router.get("/admin/requests").handler(admin::requests);
    router.post("/admin/workers/:workerId/drain").handler(admin::drain);
    router.post("/admin/workers/:workerId/undrain").handler(admin::undrain);
    router.get("/metrics").handler(ownOriginOnly).handler(adminAuth)
        .handler(PrometheusScrapingHandler.create(meterRegistry));
    router.route().failureHandler(errors);
    router.errorHandler(404, errors);
    router.errorHandler(405, errors);
    router.errorHandler(413, errors);
    router.errorHandler(400, errors);
    router.errorHandler(500, errors);
    return router;
  }

  /**
   * Where the Responses API keeps stored responses ({@code previous_response_id}, {@code GET /v1/responses/:id}):
   * the cluster's shared map, bounded by gateway.responses.* on every member, so any gateway finds them; a Vert.x
   * that is not clustered (tests) keeps them in this gateway's memory for the same time.
   */
  protected ResponseStore responseStore() {
    ResponseStoreOptions stored = options.getResponses();
    return vertx.isClustered() ? new ClusterResponseStore(vertx, stored)
        : new LocalResponseStore(LocalResponseStore.DEFAULT_MAX_ENTRIES, stored.getTtlSeconds() * 1000L,
            System::currentTimeMillis);
  }

  /** Where this gateway's API keys, request bounds and rate limiter stand, for GET /admin/cluster. */
  private JsonObject safeguards(GatewayServices services) {
    return new JsonObject().put("apiKeys", state.apiKeys().status()).put("requestBounds", bounds.status())
        .put("rateLimiter", services.rateLimiter().status());
  }

  /** Timeouts the gateway is keeping now (tests check that a finished request leaves none behind). */
  Future<Integer> pendingDeadlines() {
    io.vertx.core.Promise<Integer> count = io.vertx.core.Promise.promise();
    context.runOnContext(v -> count.complete(deadlines == null ? 0 : deadlines.pending()));
    return count.future();
  }

  /** Where the API keys come from (tests check the keys file through it instead of waiting for the timer). */
  ApiKeySource apiKeySource() {
    return state.apiKeys();
  }

  /**
   * What every exchange of this gateway tells what it does: its span, the metrics, the key's token budget and, with
   * gateway.logRequests, the access log. Made once; the listeners are shared by every request.
   */
  private static ExchangeListener exchangeListeners(GatewayOptions options, GatewayMetrics metrics,
                                                    RateLimiter rateLimiter, String nodeId) {
    List<ExchangeListener> listeners = new ArrayList<>(List.of(new SpanListener(), new MetricsListener(metrics),
        new TokenChargeListener(rateLimiter)));
    if (options.isLogRequests()) {
      listeners.add(new AccessLogListener(nodeId));
    }
    return new ExchangeListeners(listeners);
  }

  /**
   * How long a circuit's probe may go without a verdict before the next request may probe: the longest a working
   * worker takes to accept a request and send its first token (each bounded by its own timeout, which reports
   * the probe's failure), and a second for the sweeps that enforce those timeouts.
   */
  static long probeTimeoutMs(GatewayOptions options) {
    long firstToken = options.getFirstTokenTimeoutMs() > 0 ? options.getFirstTokenTimeoutMs()
        : options.getRequestTimeoutMs();
    return options.getAcceptTimeoutMs() + firstToken + 1000;
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
        .transform(v -> {
          if (deadlines != null) {
            deadlines.stop();
          }
          return Future.succeededFuture();
        })
        .transform(v -> plane == null ? Future.succeededFuture() : plane.stop())
        .transform(v -> registry == null ? Future.succeededFuture() : registry.stop())
        .transform(v -> {
          if (state != null) {
            if (asInstance != null) {
              state.left(asInstance);
            }
            if (sharedState == null) {
              state.stop();
            }
          }
          return Future.succeededFuture();
        })
        // Flushing buffered spans is a blocking HTTP call: not on the event loop.
        .transform(v -> spans == null || !spans.exporting() ? Future.succeededFuture()
            : vertx.executeBlocking(() -> {
              spans.close();
              return null;
            }));
  }
}
