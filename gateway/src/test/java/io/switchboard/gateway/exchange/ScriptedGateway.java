package io.switchboard.gateway.exchange;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.gateway.admin.AdminHandlers;
import io.switchboard.gateway.admission.AdmissionQueue;
import io.switchboard.gateway.api.InFlightRequests;
import io.switchboard.gateway.api.RequestValidator;
import io.switchboard.gateway.cluster.ClusterHandlers;
import io.switchboard.gateway.cluster.ClusterView;
import io.switchboard.gateway.config.GatewayOptions;
import io.switchboard.gateway.dialect.messages.AnthropicErrors;
import io.switchboard.gateway.dialect.messages.CountTokensHandler;
import io.switchboard.gateway.dialect.messages.MessagesDialect;
import io.switchboard.gateway.dialect.openai.ChatDialect;
import io.switchboard.gateway.dialect.openai.EmbeddingsDialect;
import io.switchboard.gateway.dialect.responses.ResponsesDialect;
import io.switchboard.gateway.dialect.responses.store.LocalResponseStore;
import io.switchboard.gateway.exchange.listeners.MetricsListener;
import io.switchboard.gateway.http.ErrorResponder;
import io.switchboard.gateway.metrics.GatewayMetrics;
import io.switchboard.gateway.models.ModelAliases;
import io.switchboard.gateway.models.ModelPlacement;
import io.switchboard.gateway.models.ModelsOptions;
import io.switchboard.gateway.plane.RequestPlane;
import io.switchboard.gateway.registry.GatewayDirectory;
import io.switchboard.gateway.registry.WorkerRegistry;
import io.switchboard.gateway.resilience.RetryBackoff;
import io.switchboard.gateway.resilience.WorkerCircuits;
import io.switchboard.gateway.routing.RoundRobinPolicy;
import io.switchboard.gateway.routing.WorkerRouter;
import io.switchboard.gateway.security.ApiKeyAuth;
import io.switchboard.gateway.security.ApiKeys;
import io.switchboard.gateway.security.RateLimiter;
import io.switchboard.gateway.tracing.RequestSpans;
import io.switchboard.protocol.GatewayReport;
import io.switchboard.protocol.RequestKind;
import io.switchboard.runtime.time.DeadlineSweep;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A gateway over a scripted plane, for the exchange's tests: the generation routes of every dialect as
 * GatewayVerticle wires them (the Anthropic error shape on /v1/messages), count_tokens, /v1/models, GET
 * /admin/requests and /metrics, with the API keys given (none: no key asked for). Round-robin routing, an admission
 * queue as given (waits of 1.5 s at most, woken every 250 ms), no retry backoff, and a circuit breaker that does not
 * open during a test (failures here are scripted).
 */
final class ScriptedGateway extends VerticleBase {

  private final RequestPlane plane;
  private final ModelsOptions models;
  private final int admissionQueueSize;
  private final List<ApiKeys.Entry> keyEntries;
  WorkerRegistry registry;
  ClusterHandlers cluster;
  GatewayServices services;
  HttpServer server;

  ScriptedGateway(RequestPlane plane, ModelsOptions models, int admissionQueueSize, List<ApiKeys.Entry> keys) {
    this.plane = plane;
    this.models = models;
    this.admissionQueueSize = admissionQueueSize;
    this.keyEntries = keys;
  }

  /** No aliases, no admission queue, no API keys. */
  ScriptedGateway(RequestPlane plane) {
    this(plane, new ModelsOptions(), 0, List.of());
  }

  /** Runs {@code read} on the gateway's event loop (the registry is used only there). */
  <T> T onContext(java.util.function.Supplier<T> read) {
    Promise<T> result = Promise.promise();
    context.runOnContext(v -> result.complete(read.get()));
    try {
      return result.future().await(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public Future<?> start() {
    GatewayOptions options = new GatewayOptions().setRoutingPolicy(RoundRobinPolicy.NAME).setRegistryResyncMs(300)
        .setAdmissionQueueSize(admissionQueueSize).setAdmissionTimeoutMs(1500).setRetryBackoffMs(0)
        .setModels(models);
    options.validate("gateway");
    ModelAliases aliases = options.getModels().aliases();
    registry = new WorkerRegistry(vertx, options);
    PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    GatewayMetrics metrics = new GatewayMetrics(meters, plane::openStreams,
        model -> aliases.isAlias(model) || registry.knowsModel(model), options.getMetricsMaxModels());
    services = new GatewayServices(options, registry,
        new WorkerRouter(options::policyOf, options.getRouter(), System::nanoTime, null), plane, metrics,
        new AdmissionQueue(vertx, admissionQueueSize, 250),
        new WorkerCircuits(1_000_000, 1000, 10_000, System::nanoTime, registry::knows),
        new RetryBackoff(0, () -> 0.5), new InFlightRequests(), RequestSpans.propagateOnly(),
        new RateLimiter(vertx, options.getRateLimits()), new ExchangeListeners(List.of(new MetricsListener(metrics))),
        new DeadlineSweep(vertx, 50), "gateway-node", plane.replyAddress(),
        new ModelPlacement(ModelPlacement.eventBus(vertx, 30_000), System::currentTimeMillis));
    RequestValidator validator = new RequestValidator(options.getLimits());
    ApiKeys keys = ApiKeys.parse(keyEntries, options.getRateLimits());
    cluster = new ClusterHandlers(services, ClusterView.standalone("gateway-node"),
        new GatewayDirectory(vertx, () -> new GatewayReport("g", "gateway-node", plane.name(), "round-robin",
            "127.0.0.1:0", 0, System.currentTimeMillis())), null, JsonObject::new, () -> true);
    BodyHandler body = BodyHandler.create(false).setBodyLimit(options.getMaxBodyBytes());
    Router router = Router.router(vertx);
    router.route("/v1/messages*").handler(AnthropicErrors.INSTANCE.installer());
    router.route("/v1/*").handler(new ApiKeyAuth(() -> keys, options.getRateLimits(), metrics::refused));
    router.post("/v1/chat/completions").handler(body)
        .handler(new GenerationHandler(services, new ChatDialect(RequestKind.CHAT, validator)));
    router.post("/v1/completions").handler(body)
        .handler(new GenerationHandler(services, new ChatDialect(RequestKind.COMPLETION, validator)));
    router.post("/v1/embeddings").handler(body)
        .handler(new GenerationHandler(services, new EmbeddingsDialect(validator)));
    router.post("/v1/responses").handler(body).handler(new GenerationHandler(services,
        new ResponsesDialect(validator, new LocalResponseStore(100, 60_000, System::currentTimeMillis))));
    router.post("/v1/messages/count_tokens").handler(body).handler(new CountTokensHandler(services, validator));
    router.post("/v1/messages").handler(body)
        .handler(new GenerationHandler(services, new MessagesDialect(validator)));
    router.get("/v1/models").handler(cluster::models);
    router.get("/admin/requests").handler(new AdminHandlers(vertx, services)::requests);
    router.get("/metrics").handler(PrometheusScrapingHandler.create(meters));
    router.route().failureHandler(new ErrorResponder(options.getMaxBodyBytes()));
    return registry.start().compose(v -> plane.start())
        .compose(v -> vertx.createHttpServer(new HttpServerOptions().setStrictThreadMode(true))
            .requestHandler(router).listen(0, "127.0.0.1"))
        .onSuccess(listening -> server = listening);
  }
}
