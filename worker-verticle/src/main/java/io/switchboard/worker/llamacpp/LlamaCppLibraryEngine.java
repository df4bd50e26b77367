package io.switchboard.worker.llamacpp;

import io.switchboard.protocol.DiscoveryTrust;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.ModelCatalog;
import io.switchboard.protocol.ModelEntry;
import io.switchboard.protocol.NativeForm;
import io.switchboard.protocol.RequestKind;
import io.switchboard.runtime.time.DeadlineSweep;
import io.switchboard.worker.engine.ChunkSink;
import io.switchboard.worker.engine.Engine;
import io.switchboard.worker.engine.Generation;
import io.switchboard.worker.engine.ModelControlException;
import io.switchboard.worker.engine.ReleasingSink;
import io.switchboard.worker.llamacpp.ModelLibrary.Model;
import io.switchboard.worker.llamacpp.ModelLibrary.State;
import io.switchboard.worker.openai.BackendEndpoint;
import io.switchboard.worker.openai.BackendFieldPolicy;
import io.switchboard.worker.openai.BackendKind;
import io.switchboard.worker.openai.NativeStreamApi;
import io.switchboard.worker.openai.OpenAiStreamApi;
import io.switchboard.worker.openai.StreamApi;
import io.switchboard.worker.openai.StreamingCall;
import io.switchboard.worker.process.SupervisedProcess;
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
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The llamacpp engine over a model directory ({@code llamacpp.modelsDir}, {@code --models-dir}): every GGUF file in
 * it is a model this worker serves, and each loaded model runs in its own supervised llama-server (chosen over
 * llama-server's router mode by measurement: docs/llama-cpp.md). A request for a model that is not loaded loads it
 * first; concurrent requests (and load commands) for one cold model share one load. At most {@code modelsMax}
 * models are loaded at once: a load past that unloads the least recently used model with no request in flight, or
 * waits (up to the load timeout) until one has none. A model without requests for {@code idleUnloadMs} is unloaded.
 * A model with requests in flight is never unloaded. A load that fails (corrupt file, too large, llama-server exits)
 * marks the model failed with the cause from llama-server's output, and the model is not loaded again for a back-off
 * ({@code loadRetryBackoffMs}, doubling per failed load in a row up to 10 minutes): requests meanwhile get the recorded
 * failure and the retry time at once, and spawn no llama-server. A changed file (size or time) or an operator's load
 * command ends the back-off. The other models are not touched. With {@code modelsOverRpcPool} each model loads over
 * the rpc pool ({@link LibraryRpcPool}, {@link LibraryServerCommand}: {@code --rpc MEMBERS -ngl 999}) while it has
 * members, one model at a time (an rpc-server serves one llama-server); a load that fails over the pool backs off like
 * any other, and a model that backs off holds no place on the pool (the next model may take it). When an rpc-server
 * a loaded model runs on leaves the pool, that model is unloaded, or, with requests in flight, stopped and marked
 * failed (its llama-server cannot finish them); a load stopped because its rpc-server left does not back off: the next
 * request loads it over what is left. Used only on the worker's event loop.
 */
public final class LlamaCppLibraryEngine implements Engine {

  private static final Logger log = LoggerFactory.getLogger(LlamaCppLibraryEngine.class);
  /** How often a loading llama-server's /health is asked (a tiny model is up in ~0.1 s: poll finely). */
  private static final long HEALTH_RETRY_MS = 50;
  private static final long IDLE_CHECK_MS = 1000;
  /** How often the directory is read again for added or removed files. */
  static final long RESCAN_MS = 10_000;
  private static final long IDLE_TIMEOUT_MS = 120_000;
  private static final List<String> NATIVE_DIALECTS = List.of(NativeForm.RESPONSES, NativeForm.MESSAGES);

  private final Vertx vertx;
  private final LlamaCppOptions options;
  private final String workerId;
  private final int slots;
  private final Path dir;
  private final ModelLibrary library;
  private final HttpClient client;
  private final HttpClient controlClient;
  private final DeadlineSweep deadlines;
  private final BackendFieldPolicy fields;
  /** Loads waiting for a loaded model to become idle so it can be unloaded for room. */
  private final List<Promise<Void>> roomWaiters = new ArrayList<>();
  private long idleTimer = -1;
  private long rescanTimer = -1;
  private boolean scanning;
  private boolean stopping;
  private int loadsStarted;
  /** The machine's MemAvailable, read every second off the event loop; -1 until read or where there is none. */
  private volatile long availableBytes = -1;

  /** One model's llama-server and what waits on it. */
  private static final class Server {
    final Promise<Void> loaded = Promise.promise();
    Promise<Void> unloaded;
    SupervisedProcess process;
    BackendEndpoint endpoint;
    int port;
    /** The rpc pool members it runs over; empty for a local model. */
    List<String> rpc = List.of();
    /** Why it was stopped while loading (an rpc-server it loads over left the pool); null otherwise. */
    String stoppedBecause;
  }

  /** The rpc pool its models load over ({@code modelsOverRpcPool}); null without one. */
  private final LibraryRpcPool rpcPool;

  public LlamaCppLibraryEngine(Vertx vertx, LlamaCppOptions options, String workerId, int slots) {
    this(vertx, options, workerId, slots, DiscoveryTrust.unclustered());
  }

  /** @param trust which of the cluster's rpc-server records the pool may use ({@code modelsOverRpcPool}) */
  public LlamaCppLibraryEngine(Vertx vertx, LlamaCppOptions options, String workerId, int slots,
                               DiscoveryTrust trust) {
    this.vertx = vertx;
    this.rpcPool = options.isModelsOverRpcPool() ? new LibraryRpcPool(vertx, options, workerId, trust) : null;
    this.options = options;
    this.workerId = workerId;
    this.slots = Math.max(1, slots);
    this.dir = Path.of(options.getModelsDir()).toAbsolutePath();
    this.library = new ModelLibrary(options.getModelsMax(), options.getMemoryBudgetMb() * 1024 * 1024,
        options.getLoadRetryBackoffMs(), options.getModels());
    this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true)
        .setConnectTimeout(5000), new PoolOptions().setHttp1MaxSize(this.slots * options.getModelsMax()));
    this.controlClient = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false).setConnectTimeout(2000),
        new PoolOptions().setHttp1MaxSize(4));
    this.deadlines = new DeadlineSweep(vertx, 250);
    this.fields = new BackendFieldPolicy(BackendKind.LLAMACPP, options.getPassFields(),
        "workers[N].llamacpp.passFields");
  }

  @Override
  public String kind() {
    return LlamaCppEngine.KIND;
  }

  @Override
  public List<String> nativeDialects() {
    return NATIVE_DIALECTS;
  }

  @Override
  public Future<Void> start() {
    return rescan().compose(v -> rpcPool == null ? Future.<Void>succeededFuture()
        : rpcPool.start(this::rpcMembersChanged)).onSuccess(v -> {
      readAvailableMemory();
      idleTimer = vertx.setPeriodic(IDLE_CHECK_MS, id -> {
        unloadIdle();
        readAvailableMemory();
      });
      rescanTimer = vertx.setPeriodic(RESCAN_MS, id -> rescan());
      for (ModelSettings settings : options.getModels()) {
        if (library.find(settings.getName()) == null) {
          log.warn("per-model settings name a model that is not in the model directory; they are not used",
              kv("workerId", workerId), kv("model", settings.getName()), kv("modelsDir", dir.toString()));
        }
      }
    });
  }

  /**
   * Reads the directory again (off the event loop) and takes added, removed and changed files into the library (a
   * changed file ends its model's back-off). Every {@link #RESCAN_MS}; tests call it to read the directory now.
   */
  Future<Void> rescan() {
    if (scanning || stopping) {
      return Future.succeededFuture();
    }
    scanning = true;
    int max = options.getMaxListedModels();
    return vertx.executeBlocking(() -> ModelDirectory.scan(dir, max), false)
        .recover(failure -> Future.failedFuture("cannot read the model directory " + dir + ": "
            + failure.getMessage()))
        .map(scan -> {
          boolean first = library.models().isEmpty();
          ModelLibrary.Changes changes = library.update(scan.files(), scan.total());
          if (first) {
            log.info("model directory read", kv("workerId", workerId), kv("modelsDir", dir.toString()),
                kv("models", library.servedNames()), kv("modelsMax", options.getModelsMax()),
                kv("idleUnloadMs", options.getIdleUnloadMs()));
            if (scan.files().isEmpty()) {
              log.warn("the model directory holds no .gguf files; the worker serves nothing until some are added",
                  kv("workerId", workerId), kv("modelsDir", dir.toString()));
            }
          } else if (!changes.added().isEmpty() || !changes.removed().isEmpty() || !changes.changed().isEmpty()) {
            log.info("model directory changed", kv("workerId", workerId), kv("added", changes.added()),
                kv("removed", changes.removed()), kv("changed", changes.changed()));
          }
          if (scan.total() > scan.files().size()) {
            log.warn("the model directory holds more models than the worker lists; it serves the first by name",
                kv("workerId", workerId), kv("modelsDir", dir.toString()), kv("models", scan.total()),
                kv("served", scan.files().size()), kv("maxListedModels", max));
          }
          return (Void) null;
        })
        .onComplete(done -> scanning = false)
        .onFailure(failure -> log.warn("could not read the model directory", kv("workerId", workerId),
            kv("reason", failure.getMessage())));
  }

  @Override
  public List<String> models() {
    return library.servedNames();
  }

  @Override
  public ModelCatalog catalog() {
    return rpcPool == null ? library.catalog(availableBytes) : library.catalog(availableBytes, rpcPool.room());
  }

  /** Reads MemAvailable off the event loop; gateways weigh it (with the budget) when they place a model. */
  private void readAvailableMemory() {
    vertx.executeBlocking(MemInfo::availableBytes, false).onSuccess(bytes -> availableBytes = bytes);
  }

  @Override
  public boolean loadsOnDemand() {
    return true;
  }

  @Override
  public Generation generate(GenerateRequest request, ChunkSink sink) {
    Model model = library.find(request.model());
    if (model == null) {
      sink.fail(notHere(request.model()));
      return () -> { };
    }
    NativeForm form = request.nativeToServe();
    boolean passThrough = form != null && request.kind() == RequestKind.CHAT && NATIVE_DIALECTS.contains(form.dialect());
    Server before = model.server instanceof Server running ? running : null;
    GenerateError refused = fields.check(passThrough ? form.body() : request.body(), backendName(model, before),
        workerId);
    if (refused != null) {
      sink.fail(refused);
      return () -> { };
    }
    library.acquire(model, System.currentTimeMillis());
    ReleasingSink counted = new ReleasingSink(sink, () -> released(model));
    Generation[] call = new Generation[1];
    boolean[] cancelled = new boolean[1];
    ensureLoaded(model, false).onComplete(ready -> {
      if (cancelled[0]) {
        return;
      }
      if (ready.failed()) {
        counted.fail(GenerateError.of(GenerateError.Code.ENGINE_FAILED, ready.cause().getMessage(), workerId));
        return;
      }
      Server server = (Server) model.server;
      int context = contextSize(model);
      StreamApi api = passThrough
          ? new NativeStreamApi(server.endpoint, BackendKind.LLAMACPP, context, null, request)
          : new OpenAiStreamApi(server.endpoint, BackendKind.LLAMACPP, context, null, request);
      call[0] = new StreamingCall(client, server.endpoint, api, deadlines, IDLE_TIMEOUT_MS, workerId, request, counted)
          .start();
    });
    return () -> {
      cancelled[0] = true;
      if (call[0] != null) {
        call[0].cancel();
      }
      counted.release();
    };
  }

  private void released(Model model) {
    if (library.release(model, System.currentTimeMillis())) {
      wakeRoomWaiters();
    }
  }

  /** An operator's load: it tries now, ending the model's back-off after a failed load. */
  @Override
  public Future<ModelEntry> loadModel(String name) {
    return loadModel(name, true);
  }

  @Override
  public Future<ModelEntry> loadModel(String name, boolean retryNow) {
    Model model = library.find(name);
    if (model == null) {
      return Future.failedFuture(new ModelControlException(notHere(name)));
    }
    if (retryNow && library.backingOff(model, System.currentTimeMillis())) {
      log.info("load asked for: the model's back-off after its failed load ends", kv("workerId", workerId),
          kv("model", model.name), kv("failedLoads", model.failedLoads()));
      library.endBackoff(model);
    }
    return ensureLoaded(model, retryNow).map(v -> model.entry())
        .recover(failure -> Future.failedFuture(new ModelControlException(GenerateError.of(
            GenerateError.Code.ENGINE_FAILED, failure.getMessage(), workerId))));
  }

  @Override
  public Future<ModelEntry> unloadModel(String name) {
    Model model = library.find(name);
    if (model == null) {
      return Future.failedFuture(new ModelControlException(notHere(name)));
    }
    return switch (model.state()) {
      case UNLOADED, FAILED -> Future.succeededFuture(model.entry());
      case UNLOADING -> ((Server) model.server).unloaded.future().map(v -> model.entry());
      case LOADING -> Future.failedFuture(new ModelControlException(GenerateError.of(GenerateError.Code.WORKER_BUSY,
          "model '" + model.name + "' is loading on worker " + workerId + "; unload it once it is loaded", workerId)));
      case LOADED -> model.inFlight() > 0
          ? Future.failedFuture(new ModelControlException(GenerateError.of(GenerateError.Code.WORKER_BUSY,
              "model '" + model.name + "' has " + model.inFlight() + " requests in flight on worker " + workerId
                  + " and is not unloaded while it has any", workerId)))
          : unload(model, "asked to unload").map(v -> model.entry());
    };
  }

  private GenerateError notHere(String name) {
    List<String> served = library.servedNames();
    return GenerateError.of(GenerateError.Code.MODEL_NOT_SERVED, "worker " + workerId + " has no model '" + name
        + "' in its model directory " + dir + " (it has " + (served.size() > 20 ? served.size() + " models" : served)
        + ")", workerId);
  }

  /**
   * Completes when the model is loaded: at once, with the load under way, or with a new load; fails at once with the
   * recorded failure while the model backs off after a failed load (unless {@code retryNow}: an operator's load).
   */
  private Future<Void> ensureLoaded(Model model, boolean retryNow) {
    return switch (model.state()) {
      case LOADED -> Future.succeededFuture();
      case LOADING -> ((Server) model.server).loaded.future();
      case UNLOADING -> ((Server) model.server).unloaded.future().compose(v -> ensureLoaded(model, retryNow));
      case UNLOADED -> load(model);
      case FAILED -> library.backingOff(model, System.currentTimeMillis()) && !retryNow
          ? Future.failedFuture(model.reason() + retryText(model)) : load(model);
    };
  }

  /** When a failed model is tried again, and how to try sooner; empty when it is not backing off. */
  private String retryText(Model model) {
    long retryAt = model.retryAtMs();
    if (retryAt <= 0) {
      return "";
    }
    long inS = Math.max(1, (retryAt - System.currentTimeMillis() + 999) / 1000);
    return "; it is not loaded again on worker " + workerId + " before "
        + Instant.ofEpochMilli(retryAt).truncatedTo(ChronoUnit.SECONDS) + " (in " + inS + " s; back-off after "
        + model.failedLoads() + " failed load" + (model.failedLoads() == 1 ? "" : "s")
        + ", llamacpp.loadRetryBackoffMs " + options.getLoadRetryBackoffMs() + " ms doubling): fix or replace the "
        + "file, or send an operator's load command, to try sooner";
  }

  private Future<Void> load(Model model) {
    if (stopping) {
      return Future.failedFuture("worker " + workerId + " is stopping; model '" + model.name + "' was not loaded");
    }
    Server server = new Server();
    server.rpc = rpcPool == null ? List.of() : rpcPool.members();
    library.loading(model, !server.rpc.isEmpty());
    model.server = server;
    loadsStarted++;
    long started = System.currentTimeMillis();
    long deadline = started + options.getStartupTimeoutMs();
    log.info("loading model", kv("workerId", workerId), kv("model", model.name), kv("file", model.path.toString()),
        kv("sizeBytes", model.sizeBytes), kv("modelsLoaded", library.occupying()),
        kv("modelsMax", options.getModelsMax()), kv("rpc", server.rpc));
    Future<Void> room = library.largerThanBudget(model)
        ? Future.failedFuture("does not fit: its file is " + mib(model.sizeBytes) + " MiB and the worker's memory "
            + "budget (llamacpp.memoryBudgetMb) is " + options.getMemoryBudgetMb() + " MiB")
        : makeRoom(model, deadline);
    room.compose(v -> launch(model, server, deadline))
        .onComplete(done -> {
          if (done.succeeded() && model.server == server && model.state() == State.LOADING) {
            library.loaded(model, System.currentTimeMillis());
            log.info("model loaded", kv("workerId", workerId), kv("model", model.name), kv("port", server.port),
                kv("pid", server.process.pid()), kv("loadMs", System.currentTimeMillis() - started));
            server.loaded.complete();
            // A load waiting for the rpc pool waits for this model to go idle; it may be idle already.
            wakeRoomWaiters();
            return;
          }
          String cause = server.stoppedBecause != null ? server.stoppedBecause
              : done.succeeded() ? "it was unloaded while loading" : done.cause().getMessage();
          String reason = "model '" + model.name + "' failed to load on worker " + workerId + ": " + cause;
          String retry = "";
          if (model.server == server && model.state() == State.LOADING) {
            // A launched llama-server that failed (or a file larger than the budget) fails the same way again: back
            // off. A load that found no room, or a stopping worker, started nothing and may succeed at once; so may
            // one over rpc-servers of which one has left the pool since (the next load runs over those left).
            if ((server.process != null || library.largerThanBudget(model)) && samePlace(server)) {
              library.loadFailed(model, reason, System.currentTimeMillis(), server.rpc);
              retry = retryText(model);
            } else {
              library.failed(model, reason);
            }
          }
          log.warn("model failed to load", kv("workerId", workerId), kv("model", model.name),
              kv("file", model.path.toString()), kv("reason", cause),
              kv("loadMs", System.currentTimeMillis() - started), kv("failedLoads", model.failedLoads()),
              kv("retryAtMs", model.retryAtMs()));
          Future<Void> stopped = server.process == null ? Future.succeededFuture() : server.process.stop(vertx);
          stopped.onComplete(v -> {
            rpcReleased(server);
            wakeRoomWaiters();
          });
          server.loaded.fail(reason + retry);
        });
    return server.loaded.future();
  }

  /** Unloads least recently used idle models until this one fits; waits for one to become idle when none is. */
  private Future<Void> makeRoom(Model model, long deadline) {
    if (library.claimRoom(model)) {
      return Future.succeededFuture();
    }
    Model victim = library.victim(model);
    if (victim != null) {
      return unload(victim, "to make room for model '" + model.name + "' (modelsMax " + options.getModelsMax()
              + (library.budgetBytes() > 0 ? ", memoryBudgetMb " + options.getMemoryBudgetMb() : "") + ")")
          .compose(v -> makeRoom(model, deadline));
    }
    long wait = deadline - System.currentTimeMillis();
    String noRoom = "no room: the loaded models (at most " + options.getModelsMax() + ", modelsMax"
        + (library.budgetBytes() > 0 ? "; " + mib(library.occupiedBytes()) + " of the memory budget's "
        + options.getMemoryBudgetMb() + " MiB, llamacpp.memoryBudgetMb" : "") + ") had requests in flight for "
        + options.getStartupTimeoutMs() + " ms";
    if (wait <= 0) {
      return Future.failedFuture(noRoom);
    }
    Promise<Void> room = Promise.promise();
    roomWaiters.add(room);
    // At the deadline the load fails as it is: it does not launch a llama-server with no time left to load.
    long timer = vertx.setTimer(wait, id -> {
      roomWaiters.remove(room);
      room.tryFail(noRoom);
    });
    log.info("model waits for room: every loaded model has requests in flight", kv("workerId", workerId),
        kv("model", model.name), kv("modelsMax", options.getModelsMax()));
    return room.future().compose(v -> {
      vertx.cancelTimer(timer);
      return makeRoom(model, deadline);
    });
  }

  private void wakeRoomWaiters() {
    if (roomWaiters.isEmpty()) {
      return;
    }
    List<Promise<Void>> waiting = new ArrayList<>(roomWaiters);
    roomWaiters.clear();
    waiting.forEach(Promise::tryComplete);
  }

  /** Starts the model's llama-server on a free port and waits for its /health. */
  private Future<Void> launch(Model model, Server server, long deadline) {
    return vertx.executeBlocking(() -> {
      try (ServerSocket socket = new ServerSocket(0)) {
        return socket.getLocalPort();
      }
    }, false).compose(port -> {
      server.port = port;
      server.endpoint = new BackendEndpoint(URI.create("http://127.0.0.1:" + port), null, 5000);
      server.endpoint.kindLearned(BackendKind.LLAMACPP);
      if (!server.rpc.isEmpty()) {
        rpcPool.inUse(true);
      }
      return SupervisedProcess.start(vertx, LibraryServerCommand.of(options, model, port, slots, contextSize(model),
          server.rpc), "llama-server-" + sanitize(model.name));
    }).compose(process -> {
      server.process = process;
      if (stopping) {
        // stop() did not see this process: it started while the worker was stopping.
        return process.stop(vertx).compose(v -> Future.failedFuture("worker " + workerId + " is stopping"));
      }
      process.exited().onSuccess(status -> onExit(model, server, status));
      Promise<Void> healthy = Promise.promise();
      checkHealth(server, healthy, deadline);
      return healthy.future();
    });
  }

  List<String> command(Model model, int port) {
    return LibraryServerCommand.of(options, model, port, slots, contextSize(model), List.of());
  }

  private int contextSize(Model model) {
    return model.settings.getContextSize() > 0 ? model.settings.getContextSize() : options.getContextSize();
  }

  private void checkHealth(Server server, Promise<Void> healthy, long deadline) {
    SupervisedProcess process = server.process;
    if (process.exited().isComplete()) {
      vertx.executeBlocking(() -> LlamaServerOutput.cause(process.tail(60)), false).onComplete(cause ->
          healthy.tryFail("llama-server exited with status " + process.exited().result() + " while loading it: "
              + (cause.succeeded() ? cause.result() : "(its output could not be read)")));
      return;
    }
    if (System.currentTimeMillis() > deadline) {
      healthy.tryFail("llama-server did not answer /health within " + options.getStartupTimeoutMs()
          + " ms (llamacpp.startupTimeoutMs)");
      return;
    }
    controlClient.request(new RequestOptions().setHost("127.0.0.1").setPort(server.port).setMethod(HttpMethod.GET)
            .setURI("/health"))
        .compose(req -> req.send().compose(resp -> resp.body().map(body -> resp.statusCode())))
        .onComplete(done -> {
          if (done.succeeded() && done.result() == 200) {
            healthy.tryComplete();
          } else {
            vertx.setTimer(HEALTH_RETRY_MS, id -> checkHealth(server, healthy, deadline));
          }
        });
  }

  /** A loaded model's llama-server exited on its own: the model is failed (the next request loads it again). */
  private void onExit(Model model, Server server, int status) {
    if (stopping || model.server != server || model.state() != State.LOADED) {
      return;
    }
    vertx.executeBlocking(() -> LlamaServerOutput.cause(server.process.tail(60)), false).onComplete(cause -> {
      String why = "its llama-server" + (server.rpc.isEmpty() ? "" : " (over the rpc-servers "
          + String.join(", ", server.rpc) + "; one may have gone: the pool checks them before the next load)")
          + " exited with status " + status + ": " + (cause.succeeded() ? cause.result()
          : "(its output could not be read)");
      if (model.server == server && model.state() == State.LOADED) {
        library.failed(model, "model '" + model.name + "' stopped on worker " + workerId + ": " + why);
        log.warn("model's llama-server exited unexpectedly", kv("workerId", workerId), kv("model", model.name),
            kv("status", status), kv("reason", why), kv("inFlight", model.inFlight()), kv("rpc", server.rpc));
        // Over the pool it aborts when an rpc-server vanishes under it: the members are checked before the next load.
        rpcReleased(server);
        wakeRoomWaiters();
      }
    });
  }

  private Future<Void> unload(Model model, String why) {
    Server server = (Server) model.server;
    library.unloading(model);
    server.unloaded = Promise.promise();
    long started = System.currentTimeMillis();
    Future<Void> stopped = server.process == null ? Future.succeededFuture() : server.process.stop(vertx);
    stopped.onComplete(done -> {
      library.unloaded(model);
      if (!server.rpc.isEmpty() && library.rpcHolder() == null) {
        rpcPool.inUse(false);
      }
      log.info("model unloaded", kv("workerId", workerId), kv("model", model.name), kv("reason", why),
          kv("stopMs", System.currentTimeMillis() - started));
      server.unloaded.complete();
      wakeRoomWaiters();
    });
    return server.unloaded.future();
  }

  /**
   * The rpc pool's members after a change held for {@code restartDebounceMs}. A model loaded over an rpc-server that
   * left (its agent withdrew it, or it failed a check) cannot run any more: idle, it is unloaded; with requests in
   * flight, its llama-server is stopped and the model marked failed naming the rpc-server (the requests end with that
   * error); loading, its llama-server is stopped and the load fails with it. The next request loads it over the
   * members left (or locally when none is). A member that joined is used by the next load; loaded models keep running.
   * A model that backs off after a failed load that ran elsewhere (over other members, or locally) is tried again at
   * once: its back-off was about the place, which changed ({@link ModelLibrary#placeChanged}).
   */
  private void rpcMembersChanged(List<String> members) {
    if (!stopping) {
      List<String> retried = library.placeChanged(members);
      if (!retried.isEmpty()) {
        log.info("rpc pool changed: models whose failed load ran elsewhere are tried again at once",
            kv("workerId", workerId), kv("models", retried), kv("rpc", members));
      }
    }
    Model holder = library.rpcHolder();
    if (stopping || holder == null || !(holder.server instanceof Server server)) {
      return;
    }
    List<String> gone = server.rpc.stream().filter(endpoint -> !members.contains(endpoint)).toList();
    if (gone.isEmpty()) {
      return;
    }
    String why = "the rpc-server" + (gone.size() > 1 ? "s " : " ") + String.join(", ", gone) + " it ran on left "
        + "the rpc pool (now " + (members.isEmpty() ? "empty" : String.join(", ", members)) + ")";
    log.warn("rpc-server under a loaded model left the pool", kv("workerId", workerId), kv("model", holder.name),
        kv("state", holder.state().wire), kv("inFlight", holder.inFlight()), kv("gone", gone), kv("rpc", members));
    switch (holder.state()) {
      case LOADED -> {
        if (holder.inFlight() == 0) {
          unload(holder, why).onComplete(v -> revalidateRpcPool());
        } else {
          library.failed(holder, "model '" + holder.name + "' stopped on worker " + workerId + ": " + why);
          server.process.stop(vertx).onComplete(v -> {
            rpcReleased(server);
            wakeRoomWaiters();
          });
        }
      }
      case LOADING -> {
        server.stoppedBecause = why;
        if (server.process != null) {
          server.process.stop(vertx);
        }
      }
      default -> {
        // Unloading: it is going already.
      }
    }
  }

  /** True when the next load would run where this one ran: over the same rpc-servers, or on this machine. */
  private boolean samePlace(Server server) {
    return rpcPool == null || server.rpc.equals(rpcPool.members());
  }

  /** A llama-server that ran over the pool stopped or failed: re-check the members once none holds them. */
  private void rpcReleased(Server server) {
    if (!server.rpc.isEmpty()) {
      revalidateRpcPool();
    }
  }

  private void revalidateRpcPool() {
    if (rpcPool != null && !stopping && library.rpcHolder() == null) {
      rpcPool.revalidate();
    }
  }

  private void unloadIdle() {
    long idleMs = options.getIdleUnloadMs();
    for (Model model : library.idle(System.currentTimeMillis(), idleMs)) {
      unload(model, "no requests for " + idleMs + " ms (idleUnloadMs)");
    }
  }

  private String backendName(Model model, Server server) {
    return server == null ? "llama-server for model " + model.name
        : "llama-server for model " + model.name + " at 127.0.0.1:" + server.port;
  }

  private static long mib(long bytes) {
    return (bytes + (1 << 20) - 1) >> 20;
  }

  private static String sanitize(String name) {
    return name.replaceAll("[^A-Za-z0-9._-]", "_");
  }

  /** How many loads this engine started (tests: concurrent requests for one cold model make one). */
  int loadsStarted() {
    return loadsStarted;
  }

  /** The model directory and each model's state, server and requests in flight, for /admin/cluster. */
  @Override
  public JsonObject status() {
    JsonArray models = new JsonArray();
    for (Model model : library.models()) {
      JsonObject entry = model.entry().toJson();
      if (model.server instanceof Server server && server.process != null) {
        entry.put("port", server.port).put("pid", server.process.pid());
        if (!server.rpc.isEmpty()) {
          entry.put("rpcEndpoints", new JsonArray(server.rpc));
        }
      }
      models.add(entry);
    }
    JsonObject status = new JsonObject().put("modelsDir", dir.toString()).put("modelsMax", options.getModelsMax())
        .put("idleUnloadMs", options.getIdleUnloadMs()).put("modelsLoaded", library.occupying())
        .put("memoryBudgetMb", options.getMemoryBudgetMb())
        .put("loadRetryBackoffMs", options.getLoadRetryBackoffMs()).put("occupiedBytes", library.occupiedBytes())
        .put("availableBytes", availableBytes)
        .put("models", models);
    if (rpcPool != null) {
      rpcPool.addTo(status);
    }
    return status;
  }

  @Override
  public Future<Void> stop() {
    stopping = true;
    if (rpcPool != null) {
      rpcPool.stop();
    }
    vertx.cancelTimer(idleTimer);
    vertx.cancelTimer(rescanTimer);
    deadlines.stop();
    wakeRoomWaiters();
    List<Future<Void>> stopped = new ArrayList<>();
    for (Model model : library.models()) {
      if (model.server instanceof Server server && server.process != null) {
        stopped.add(server.process.stop(vertx));
      }
    }
    return Future.join(stopped).<Void>mapEmpty().transform(v -> client.close()).transform(v -> controlClient.close());
  }
}
