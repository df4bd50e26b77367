package io.switchboard.worker.llamacpp;

import io.switchboard.protocol.DiscoveryTrust;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.NativeForm;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.Usage;
import io.switchboard.runtime.time.DeadlineSweep;
import io.switchboard.worker.engine.ChunkSink;
import io.switchboard.worker.engine.Engine;
import io.switchboard.worker.engine.Generation;
import io.switchboard.worker.engine.ReleasingSink;
import io.switchboard.worker.openai.BackendEndpoint;
import io.switchboard.worker.openai.BackendFieldPolicy;
import io.switchboard.worker.openai.BackendKind;
import io.switchboard.worker.openai.NativeStreamApi;
import io.switchboard.worker.openai.OpenAiStreamApi;
import io.switchboard.worker.openai.StreamApi;
import io.switchboard.worker.openai.StreamingCall;
import io.switchboard.worker.rpc.RpcPool;
import io.switchboard.worker.rpc.RpcProbe;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.ServerSocket;
import java.net.URI;
import java.util.List;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The llamacpp engine. Attached ({@code url}): waits until that llama-server's {@code /health} answers 200.
 * Supervised ({@code serverBin} + {@code modelPath}): runs its own llama-server over the rpc pool through a
 * {@link LlamaServerSupervisor}, and refuses generations as busy while it restarts. Either way every generation
 * streams through a {@link StreamingCall}: in llama-server's OpenAI API ({@link OpenAiStreamApi}), or in its
 * Responses or Messages API for a request passed through as the client wrote it ({@link NativeStreamApi}).
 */
public final class LlamaCppEngine implements Engine {

  public static final String KIND = "llamacpp";
  private static final Logger log = LoggerFactory.getLogger(LlamaCppEngine.class);
  private static final long HEALTH_RETRY_MS = 250;
  /** How long llama-server may send nothing mid-answer (or before its first byte: a long prompt's prefill). */
  private static final long IDLE_TIMEOUT_MS = 120_000;
  private static final List<String> NATIVE_DIALECTS = List.of(NativeForm.RESPONSES, NativeForm.MESSAGES);

  private final Vertx vertx;
  private final LlamaCppOptions options;
  private final String workerId;
  private final int slots;
  private final DiscoveryTrust trust;
  private final HttpClient client;
  // Health checks and load polling use their own connection, so they never hand a generation a connection
  // llama-server is about to close.
  private final HttpClient controlClient;
  private RequestOptions target;
  private BackendEndpoint endpoint;
  private String backendName;
  private LlamaServerSupervisor supervisor;
  private RpcPool pool;
  private LlamaServerLoadPoller load;
  private boolean accepting = true;
  private int active;
  private Promise<Void> drained;
  /** The generations' idle watchdogs (the limit is minutes; a quarter second late does not matter). */
  private final DeadlineSweep deadlines;
  private final BackendFieldPolicy fields;

  /** @param trust which of the cluster's rpc-server records the pool may use */
  public LlamaCppEngine(Vertx vertx, LlamaCppOptions options, String workerId, int slots, DiscoveryTrust trust) {
    this.vertx = vertx;
    this.trust = trust;
    this.options = options;
    this.workerId = workerId;
    this.slots = Math.max(1, slots);
    this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true)
        .setConnectTimeout(5000), new PoolOptions().setHttp1MaxSize(this.slots));
    this.controlClient = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setConnectTimeout(5000),
        new PoolOptions().setHttp1MaxSize(1));
    this.deadlines = new DeadlineSweep(vertx, 250);
    this.fields = new BackendFieldPolicy(BackendKind.LLAMACPP, options.getPassFields(),
        "workers[N].llamacpp.passFields");
  }

  @Override
  public String kind() {
    return KIND;
  }

  /** llama-server serves the Responses and Messages APIs itself (tools/server: server-chat.cpp, server-task.cpp). */
  @Override
  public List<String> nativeDialects() {
    return NATIVE_DIALECTS;
  }

  @Override
  public Future<Void> start() {
    if (!options.supervises()) {
      URI uri = URI.create(options.getUrl());
      int port = uri.getPort() > 0 ? uri.getPort() : 80;
      target = new RequestOptions().setHost(uri.getHost()).setPort(port)
          .setURI(uri.getRawPath() == null ? "" : uri.getRawPath());
      backendName = "llama-server at " + uri.getHost() + ":" + port;
      endpoint = endpointAt(uri.getHost(), port, target.getURI());
      Promise<Void> healthy = Promise.promise();
      checkHealth(healthy, System.currentTimeMillis() + options.getStartupTimeoutMs(), "no answer yet");
      return healthy.future().onSuccess(v -> {
        log.info("attached to llama-server", kv("workerId", workerId), kv("backend", backendName));
        startLoadPoller();
      });
    }
    return vertx.executeBlocking(() -> {
      try (ServerSocket socket = new ServerSocket(0)) {
        return socket.getLocalPort();
      }
    }, false).compose(port -> {
      target = new RequestOptions().setHost("127.0.0.1").setPort(port).setURI("");
      backendName = "llama-server (supervised) at 127.0.0.1:" + port;
      endpoint = endpointAt("127.0.0.1", port, "");
      pool = new RpcPool(vertx, new RpcProbe(vertx), options.getRpcPool(), trust);
      supervisor = new LlamaServerSupervisor(vertx, options, workerId, slots, port, pool, controlClient,
          new Gate());
      return supervisor.start().onSuccess(v -> startLoadPoller());
    });
  }

  private static BackendEndpoint endpointAt(String host, int port, String path) {
    BackendEndpoint endpoint = new BackendEndpoint(URI.create("http://" + host + ":" + port + path), null, 5000);
    endpoint.kindLearned(BackendKind.LLAMACPP);
    return endpoint;
  }

  private void startLoadPoller() {
    load = new LlamaServerLoadPoller(vertx, controlClient, () -> target);
    load.start();
  }

  private void checkHealth(Promise<Void> healthy, long deadline, String last) {
    if (System.currentTimeMillis() > deadline) {
      healthy.fail(backendName + " did not become healthy within " + options.getStartupTimeoutMs() + " ms ("
          + last + "); is it running, and is llamacpp.url right?");
      return;
    }
    controlClient.request(new RequestOptions(target).setMethod(HttpMethod.GET).setURI(target.getURI() + "/health"))
        .compose(req -> req.send().compose(resp -> resp.body().map(body -> resp.statusCode() + " " + body)))
        .onComplete(done -> {
          if (done.succeeded() && done.result().startsWith("200")) {
            healthy.complete();
          } else {
            String now = done.succeeded() ? "GET /health answered " + done.result() : done.cause().getMessage();
            vertx.setTimer(HEALTH_RETRY_MS, id -> checkHealth(healthy, deadline, now));
          }
        });
  }

  @Override
  public Generation generate(GenerateRequest request, ChunkSink sink) {
    if (!accepting) {
      sink.fail(GenerateError.of(GenerateError.Code.WORKER_BUSY, "worker " + workerId + " is restarting its "
          + "llama-server for a changed rpc pool; try another worker", workerId));
      return () -> { };
    }
    NativeForm form = request.nativeToServe();
    boolean passThrough = form != null && request.kind() == RequestKind.CHAT && NATIVE_DIALECTS.contains(form.dialect());
    GenerateError refused = fields.check(passThrough ? form.body() : request.body(), backendName, workerId);
    if (refused != null) {
      sink.fail(refused);
      return () -> { };
    }
    active++;
    ReleasingSink counted = new ReleasingSink(sink, this::released);
    // A supervised llama-server's context per slot is known; an attached one's is not.
    int context = options.supervises() ? options.getContextSize() : 0;
    StreamApi api = passThrough
        ? new NativeStreamApi(endpoint, BackendKind.LLAMACPP, context, null, request)
        : new OpenAiStreamApi(endpoint, BackendKind.LLAMACPP, context, null, request);
    Generation call = new StreamingCall(client, endpoint, api, deadlines, IDLE_TIMEOUT_MS, workerId, request, counted)
        .start();
    return () -> {
      call.cancel();
      counted.release();
    };
  }

  /** The llama-server (attached or supervised: pid, rpc endpoints) and the rpc pool's candidates with states. */
  @Override
  public JsonObject status() {
    JsonObject server = new JsonObject().put("backend", backendName).put("accepting", accepting)
        .put("inFlight", active);
    if (supervisor != null) {
      server.put("pid", supervisor.pid()).put("rpc", new JsonArray(supervisor.runningOn()));
    }
    if (load != null) {
      server.put("load", load.reading());
    }
    JsonObject status = new JsonObject().put("llamaServer", server);
    if (pool != null) {
      status.put("rpcPool", pool.toJson());
      if (pool.refusedRecords().size() > 0) {
        status.put("rpcPoolRejectedRecords", pool.refusedRecords().toJson());
      }
    }
    return status;
  }

  @Override
  public Future<Void> stop() {
    if (load != null) {
      load.stop();
    }
    deadlines.stop();
    Future<Void> stopped = supervisor == null ? Future.succeededFuture() : supervisor.stop();
    return stopped.transform(v -> client.close()).transform(v -> controlClient.close());
  }

  private void released() {
    active--;
    if (active == 0 && drained != null) {
      drained.tryComplete();
    }
  }

  /** Lets the supervisor hold generations off around a restart. */
  private final class Gate implements LlamaServerSupervisor.Gate {
    @Override
    public Future<Void> close(long drainMs) {
      accepting = false;
      if (active == 0) {
        return Future.succeededFuture();
      }
      drained = Promise.promise();
      long timer = vertx.setTimer(Math.max(1, drainMs), id -> drained.tryComplete());
      return drained.future().onComplete(done -> {
        vertx.cancelTimer(timer);
        drained = null;
      });
    }

    @Override
    public void open() {
      accepting = true;
    }
  }
}
