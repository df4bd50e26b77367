package io.switchboard.gateway.exchange;

import io.switchboard.gateway.config.GatewayOptions;
import io.switchboard.gateway.http.ApiError;
import io.switchboard.gateway.models.ModelPlacement;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.gateway.admission.AdmissionQueue;
import io.switchboard.gateway.api.CompletionRequest;
import io.switchboard.gateway.api.InFlightRequests;
import io.switchboard.gateway.api.RequestValidator;
import io.switchboard.gateway.dialect.openai.ChatDialect;
import io.switchboard.gateway.metrics.GatewayMetrics;
import io.switchboard.gateway.plane.EventBusRequestPlane;
import io.switchboard.gateway.registry.WorkerRegistry;
import io.switchboard.gateway.resilience.RetryBackoff;
import io.switchboard.gateway.resilience.WorkerCircuits;
import io.switchboard.gateway.routing.RoundRobinPolicy;
import io.switchboard.gateway.routing.WorkerRouter;
import io.switchboard.gateway.security.ApiKeyAuth;
import io.switchboard.gateway.security.ApiKeys;
import io.switchboard.gateway.security.RateLimiter;
import io.switchboard.gateway.tracing.RequestSpans;
import io.switchboard.protocol.Addresses;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.NativeForm;
import io.switchboard.protocol.PlaneMessageLimit;
import io.switchboard.protocol.RequestKind;
import io.switchboard.runtime.time.DeadlineSweep;
import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.FreePorts;
import io.switchboard.testsupport.LlamaCppBinaries;
import io.switchboard.testsupport.LlamaCppServers;
import io.switchboard.worker.WorkerOptions;
import io.switchboard.worker.WorkerVerticle;
import io.switchboard.worker.llamacpp.LlamaCppOptions;
import io.switchboard.worker.mocker.MockerOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The exchange sends a request's native form only to a worker whose record lists the dialect: two workers of one
 * model, a llamacpp worker in front of a real llama-server (the tiny model that worker-verticle's tests write) and a
 * mocker, taking turns (round-robin). The dialect here is chat with a Messages form added, standing in for the
 * Messages dialect that sets it. What each worker was sent is read off the event bus.
 */
@ExtendWith(VertxExtension.class)
class NativeFormRoutingTest {

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static Vertx vertx;
  private static Process llamaServer;
  private static int port;
  /** GenerateRequest JSON sent to each worker, as "workerId json". */
  private static final List<String> sent = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    Path model = Path.of("..", "worker-verticle", "target", "models", "tiny-llama.gguf").toAbsolutePath().normalize();
    Assumptions.assumeTrue(LlamaCppBinaries.built().isPresent() && Files.exists(model), "needs "
        + "tools/build-llama-cpp's llama-server and the tiny model worker-verticle's tests write (" + model + ")");
    int llamaPort = FreePorts.any();
    llamaServer = LlamaCppServers.llamaServer(model, llamaPort, "-c", "1024", "-np", "2");
    NativeFormRoutingTest.vertx = vertx;
    vertx.eventBus().addOutboundInterceptor(delivery -> {
      String address = delivery.message().address();
      for (String worker : List.of("native-1", "plain-1")) {
        if (!address.equals(Addresses.workerGenerate(worker))) {
          continue;
        }
        // Workers of this version are sent the request object (the binary plane format between nodes); older ones JSON.
        Object body = delivery.message().body();
        if (body instanceof GenerateRequest request) {
          sent.add(worker + " " + request.toJson().encode());
        } else if (body instanceof JsonObject json) {
          sent.add(worker + " " + json.encode());
        }
      }
      delivery.next();
    });
    // Workers on another node than the gateway's, so requests go over the event bus.
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("native-1").setModel("tiny").setSlots(2)
        .setEngine("llamacpp").setLlamacpp(new LlamaCppOptions().setUrl("http://127.0.0.1:" + llamaPort)),
        "worker-node")).await(90, TimeUnit.SECONDS);
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("plain-1").setModel("tiny").setSlots(2)
        .setMocker(new MockerOptions().setPrefillTokensPerSecond(0).setDecodeTokensPerSecond(0)), "worker-node"))
        .await(30, TimeUnit.SECONDS);
    TestGateway gateway = new TestGateway();
    vertx.deployVerticle(gateway).await(30, TimeUnit.SECONDS);
    port = gateway.server.actualPort();
    Eventually.within(ofSeconds(10), "both workers are routable",
        () -> gateway.registry.workersOf("tiny", RequestKind.CHAT).stream().filter(w -> w.routable()).count() >= 2);
  }

  @AfterAll
  static void stopLlamaServer() throws Exception {
    if (llamaServer != null) {
      llamaServer.destroyForcibly().waitFor();
    }
  }

  @Test
  void theNativeFormGoesOnlyToTheWorkerThatListsItsDialect() throws Exception {
    for (int i = 0; i < 6; i++) {
      JsonObject chat = new JsonObject().put("model", "tiny").put("max_tokens", 4).put("temperature", 0)
          .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hello " + i)));
      HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
          + "/test/messages")).POST(HttpRequest.BodyPublishers.ofString(chat.encode()))
          .header("content-type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      JsonObject answer = new JsonObject(response.body());
      assertThat(answer.getJsonObject("usage").getInteger("completion_tokens")).isEqualTo(4);
    }

    List<JsonObject> toNative = sentTo("native-1");
    List<JsonObject> toPlain = sentTo("plain-1");
    assertThat(toNative).as("round-robin gives each worker some").isNotEmpty();
    assertThat(toPlain).isNotEmpty();
    for (JsonObject request : toNative) {
      assertThat(request.getJsonObject("native").getString("dialect")).isEqualTo("messages");
      assertThat(request.getJsonObject("native").getJsonObject("body").getString("system")).isEqualTo("native!");
      assertThat(request.getJsonObject("body").containsKey("system")).isFalse(); // the chat body travels too
    }
    for (JsonObject request : toPlain) {
      assertThat(request.containsKey("native")).as("the mocker lists no dialect").isFalse();
    }
  }

  private static List<JsonObject> sentTo(String worker) {
    return sent.stream().filter(line -> line.startsWith(worker + " "))
        .map(line -> new JsonObject(line.substring(worker.length() + 1))).toList();
  }

  /** The pieces of a gateway an exchange needs, and one route: chat read, with a Messages form added. */
  static final class TestGateway extends VerticleBase {

    WorkerRegistry registry;
    HttpServer server;

    @Override
    public Future<?> start() {
      GatewayOptions options = new GatewayOptions().setRoutingPolicy(RoundRobinPolicy.NAME).setRegistryResyncMs(300)
          .setAdmissionQueueSize(0);
      registry = new WorkerRegistry(vertx, options);
      EventBusRequestPlane plane = new EventBusRequestPlane(vertx, options, "test-gateway",
          PlaneMessageLimit.ofDefault());
      PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      GatewayMetrics metrics = new GatewayMetrics(meters, plane::openStreams, registry::knowsModel,
          options.getMetricsMaxModels());
      GatewayServices services = new GatewayServices(options, registry,
          new WorkerRouter(options::policyOf, options.getRouter(), System::nanoTime, null), plane, metrics,
          new AdmissionQueue(vertx, 0, 250), new WorkerCircuits(5, 1000, 10_000, System::nanoTime, registry::knows),
          new RetryBackoff(0, () -> 0.5), new InFlightRequests(), RequestSpans.propagateOnly(),
          new RateLimiter(vertx, options.getRateLimits()), new ExchangeListener() { }, new DeadlineSweep(vertx, 50),
          "gateway-node",
          plane.replyAddress(),
          new ModelPlacement(ModelPlacement.eventBus(vertx, 30_000), System::currentTimeMillis));
      ChatDialect chat = new ChatDialect(RequestKind.CHAT, new RequestValidator(options.getLimits()));
      Dialect messages = new Dialect() {
        @Override
        public String endpoint() {
          return "messages";
        }

        @Override
        public Future<Call> read(RoutingContext ctx) {
          return chat.read(ctx).map(call -> {
            CompletionRequest request = call.request();
            JsonObject clientBody = new JsonObject().put("model", "tiny").put("max_tokens", 4).put("system", "native!")
                .put("messages", request.body().getJsonArray("messages"));
            CompletionRequest withNative = request.withNative(NativeForm.MESSAGES, clientBody);
            return new Call() {
              @Override
              public CompletionRequest request() {
                return withNative;
              }

              @Override
              public AnswerWriter writer(String requestId) {
                return call.writer(requestId);
              }
            };
          });
        }
      };
      ApiKeys noKeys = ApiKeys.parse(List.of(), options.getRateLimits());
      Router router = Router.router(vertx);
      router.post("/test/messages").handler(BodyHandler.create(false))
          .handler(new ApiKeyAuth(() -> noKeys, options.getRateLimits(), metrics::refused))
          .handler(new GenerationHandler(services, messages));
      router.route().failureHandler(ctx -> ctx.response().setStatusCode(ctx.failure() instanceof ApiError error
          ? error.status() : 500).end(String.valueOf(ctx.failure())));
      return registry.start().compose(v -> plane.start())
          .compose(v -> vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1"))
          .onSuccess(listening -> server = listening);
    }
  }
}
