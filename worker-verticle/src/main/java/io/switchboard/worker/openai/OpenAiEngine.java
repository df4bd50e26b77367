package io.switchboard.worker.openai;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.NativeForm;
import io.switchboard.protocol.RequestKind;
import io.switchboard.runtime.time.DeadlineSweep;
import io.switchboard.worker.engine.ChunkSink;
import io.switchboard.worker.engine.Engine;
import io.switchboard.worker.engine.Generation;
import io.switchboard.worker.engine.ReleasingSink;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The openai engine: a worker in front of one OpenAI-compatible backend (vLLM, SGLang, TGI, trtllm-serve,
 * Ollama, llama-server, ...). It serves the models the backend lists, routes nothing while the backend is
 * unhealthy, reports the backend's own load, and streams each generation through the backend's API
 * ({@link StreamingCall}) or answers embeddings ({@link OpenAiEmbeddingCall}).
 */
public final class OpenAiEngine implements Engine {

  public static final String KIND = "openai";
  private static final Logger log = LoggerFactory.getLogger(OpenAiEngine.class);

  private final OpenAiOptions options;
  private final String workerId;
  private final HttpClient client;
  // Monitoring uses its own connection, so a health check never waits behind (or takes) a generation's.
  private final HttpClient controlClient;
  private final BackendEndpoint endpoint;
  private final BackendModelCatalog catalog;
  private final BackendMonitor monitor;
  private int active;
  /** The generations' idle watchdogs; one fires at most this late (the limit is 100 ms or more). */
  private static final long DEADLINE_CHECK_MS = 50;
  private final DeadlineSweep deadlines;
  /** The field policy of the kind last seen (auto-detection may learn the kind after start). */
  private BackendFieldPolicy fields;
  /** The dialects the backend serves natively: configured, or probed each time it comes up. */
  private volatile List<String> nativeDialects;

  public OpenAiEngine(Vertx vertx, OpenAiOptions options, String workerId, int slots) {
    this.options = options;
    this.workerId = workerId;
    this.endpoint = new BackendEndpoint(options.baseUri(), options.getApiKey(), options.getConnectTimeoutMs() * 2);
    HttpClientOptions http = new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true)
        .setConnectTimeout((int) options.getConnectTimeoutMs()).setSsl(endpoint.tls());
    this.client = vertx.createHttpClient(http, new PoolOptions().setHttp1MaxSize(Math.max(1, slots)));
    this.controlClient = vertx.createHttpClient(new HttpClientOptions(http), new PoolOptions().setHttp1MaxSize(1));
    this.catalog = new BackendModelCatalog(options.getModels(), options.aliasMap("openai"),
        options.getEmbeddingModels());
    this.monitor = new BackendMonitor(vertx, controlClient, endpoint, options, catalog, workerId);
    this.deadlines = new DeadlineSweep(vertx, DEADLINE_CHECK_MS);
    this.nativeDialects = options.probesNativeDialects() ? List.of() : options.servedNativeDialects();
    if (options.probesNativeDialects()) {
      monitor.onHealthy(this::probeNativeDialects);
    }
  }

  /** Asks the backend (just come up: it may be another server now) which dialects it serves natively. */
  private void probeNativeDialects() {
    NativeDialectProbe.probe(controlClient, endpoint, options.getConnectTimeoutMs() * 2).onComplete(probed -> {
      if (probed.failed()) {
        log.warn("could not learn which dialects the backend serves natively; requests in them go through chat",
            kv("workerId", workerId), kv("backend", endpoint.name()), kv("reason", probed.cause().getMessage()));
        return;
      }
      if (!probed.result().equals(nativeDialects)) {
        log.info("backend dialects learned", kv("workerId", workerId), kv("backend", endpoint.name()),
            kv("nativeDialects", probed.result()));
      }
      nativeDialects = probed.result();
    });
  }

  @Override
  public List<String> nativeDialects() {
    return nativeDialects;
  }

  /** Whether this request goes to the backend in its own dialect. */
  private boolean passesThrough(GenerateRequest request) {
    NativeForm form = request.nativeToServe();
    return form != null && request.kind() == RequestKind.CHAT && nativeDialects.contains(form.dialect());
  }

  @Override
  public String kind() {
    return KIND;
  }

  @Override
  public Future<Void> start() {
    return monitor.start().onSuccess(v -> {
      String unavailable = monitor.unavailableReason();
      if (unavailable == null) {
        log.info("openai worker ready", kv("workerId", workerId), kv("backend", endpoint.name()),
            kv("kind", monitor.kind().configName()), kv("models", catalog.served()));
      } else {
        log.warn("openai worker started, but its backend cannot take work yet; watching it",
            kv("workerId", workerId), kv("backend", endpoint.name()), kv("reason", unavailable));
      }
    });
  }

  @Override
  public Generation generate(GenerateRequest request, ChunkSink sink) {
    String backendModel = catalog.backendId(request.model());
    if (backendModel == null) {
      sink.fail(new GenerateError(GenerateError.Code.MODEL_NOT_SERVED, endpoint.name() + " does not serve '"
          + request.model() + "' (it serves " + catalog.served() + ")", true, workerId));
      return () -> { };
    }
    boolean passThrough = passesThrough(request);
    GenerateError refused = fieldPolicy().check(passThrough ? request.nativeForm().body() : request.body(),
        endpoint.name(), workerId);
    if (refused != null) {
      sink.fail(refused);
      return () -> { };
    }
    active++;
    ReleasingSink counted = new ReleasingSink(sink, () -> active--, error -> {
      if (error.code() == GenerateError.Code.MODEL_NOT_SERVED) {
        monitor.refreshModels();
      }
    });
    Generation call = request.kind() == RequestKind.EMBEDDING
        ? new OpenAiEmbeddingCall(client, endpoint, backendModel, options.getIdleTimeoutMs(), workerId, request,
            counted).start()
        : new StreamingCall(client, endpoint, passThrough
            ? new NativeStreamApi(endpoint, monitor.kind(), 0, backendModel, request)
            : new OpenAiStreamApi(endpoint, monitor.kind(), 0, backendModel, request),
            deadlines, options.getIdleTimeoutMs(), workerId, request, counted).start();
    return () -> {
      call.cancel();
      counted.release();
    };
  }

  private BackendFieldPolicy fieldPolicy() {
    BackendKind kind = monitor.kind();
    if (fields == null || fields.kind() != kind) {
      fields = new BackendFieldPolicy(kind, options.getPassFields(), "workers[N].openai.passFields");
    }
    return fields;
  }

  @Override
  public List<String> models() {
    return catalog.served();
  }

  @Override
  public List<String> embeddingModels() {
    return catalog.embeddingModels();
  }

  @Override
  public String unavailableReason() {
    return monitor.unavailableReason();
  }

  @Override
  public JsonObject status() {
    return monitor.status().put("inFlight", active);
  }

  @Override
  public Future<Void> stop() {
    monitor.stop();
    deadlines.stop();
    return client.close().transform(v -> controlClient.close());
  }
}
