package io.switchboard.worker.runner;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.PlaneMessageLimit;
import io.switchboard.protocol.LoadReport;
import io.switchboard.protocol.ModelCatalog;
import io.switchboard.protocol.ModelCommand;
import io.switchboard.protocol.ModelEntry;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.Usage;
import io.switchboard.runtime.json.JsonText;
import io.switchboard.worker.engine.ChunkSink;
import io.switchboard.worker.engine.Engine;
import io.switchboard.worker.engine.Generation;
import io.switchboard.worker.engine.ModelControlException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The transport-independent heart of a worker: admits generations into slots, runs them on the engine, and
 * tracks every stream until it ends, so a request plane only translates messages and a drain knows what is
 * still running. An answer too large for the request planes (an embeddings answer past grpc.maxMessageBytes) ends
 * its stream with a {@link GenerateError.Code#TOO_LARGE} error on every plane alike. Used only on the worker
 * verticle's event loop.
 */
public final class GenerationRunner {

  private static final Logger log = LoggerFactory.getLogger(GenerationRunner.class);

  private final Vertx vertx;
  private final Engine engine;
  private final RunnerSettings options;
  private final String workerId;
  private final String nodeId;
  private final SlotScheduler scheduler;
  private final PlaneMessageLimit messageLimit;
  private final Map<String, Tracked> streams = new LinkedHashMap<>();
  private boolean draining;
  private Promise<Void> drained;
  /** Set while an operator has drained this worker (POST /admin/workers/ID/drain): why it takes no new work. */
  private String heldBecause;

  public GenerationRunner(Vertx vertx, Engine engine, RunnerSettings options, String workerId, String nodeId) {
    this(vertx, engine, options, workerId, nodeId, PlaneMessageLimit.ofDefault());
  }

  /** @param messageLimit the largest message the request planes carry (the node's grpc.maxMessageBytes) */
  public GenerationRunner(Vertx vertx, Engine engine, RunnerSettings options, String workerId, String nodeId,
                          PlaneMessageLimit messageLimit) {
    this.messageLimit = messageLimit;
    this.vertx = vertx;
    this.engine = engine;
    this.options = options;
    this.workerId = workerId;
    this.nodeId = nodeId;
    this.scheduler = new SlotScheduler(options.getSlots(), options.getMaxQueue());
  }

  /**
   * Admits a generation that will write into {@code sink}. Returns null when admitted (running or queued), or
   * the reason it was refused; a refused request has not touched the sink. {@code onClosed} runs once when an
   * admitted stream is over for any reason (ended, failed, cancelled), so the transport can forget it.
   */
  public GenerateError submit(GenerateRequest request, ChunkSink sink, Runnable onClosed) {
    GenerateError notServed = notServed(request);
    if (notServed != null) {
      return notServed;
    }
    if (draining) {
      return GenerateError.of(GenerateError.Code.WORKER_STOPPING,
          "worker " + workerId + " is draining and takes no new requests", workerId);
    }
    if (heldBecause != null) {
      return GenerateError.of(GenerateError.Code.WORKER_STOPPING, "worker " + workerId + " takes no new requests: "
          + heldBecause, workerId);
    }
    String unavailable = engine.unavailableReason();
    if (unavailable != null) {
      return GenerateError.of(GenerateError.Code.WORKER_BUSY, "worker " + workerId + " cannot take work now: "
          + unavailable, workerId);
    }
    if (streams.containsKey(request.streamId())) {
      return GenerateError.of(GenerateError.Code.INVALID_REQUEST, "stream id " + request.streamId()
          + " is already running on worker " + workerId, workerId);
    }
    Tracked tracked = new Tracked(request, sink, onClosed);
    // Tracked before admission: a generation may start, and even end, inside admit().
    streams.put(request.streamId(), tracked);
    if (!scheduler.admit(tracked.starter)) {
      streams.remove(request.streamId());
      return GenerateError.of(GenerateError.Code.WORKER_BUSY, "worker " + workerId + " is full: "
          + scheduler.running() + " of " + scheduler.slots() + " slots busy and " + scheduler.queued()
          + " requests queued (maxQueue " + options.getMaxQueue() + ")", workerId);
    }
    if (log.isDebugEnabled()) { // every request passes here: build the log's arguments only when it is written
      log.debug("generation admitted", kv("requestId", request.requestId()), kv("workerId", workerId),
          kv("streamId", request.streamId()), kv("queued", !tracked.holdsSlot));
    }
    return null;
  }

  /** The models served now: what the engine learned at run time, else the one the options name. */
  public List<String> servedModels() {
    String announced = options.announcedModel();
    List<String> learned = engine.models();
    return !learned.isEmpty() || announced.isEmpty() ? learned : List.of(announced);
  }

  private GenerateError notServed(GenerateRequest request) {
    if (request.kind() == RequestKind.EMBEDDING) {
      return engine.embeddingModels().contains(request.model()) ? null
          : GenerateError.of(GenerateError.Code.MODEL_NOT_SERVED, "worker " + workerId + " serves no embeddings "
              + "for model '" + request.model() + "' (embedding models: " + engine.embeddingModels() + ")", workerId);
    }
    List<String> served = servedModels();
    return served.contains(request.model()) ? null
        : GenerateError.of(GenerateError.Code.MODEL_NOT_SERVED, "worker " + workerId + " serves "
            + (served.size() == 1 ? "model '" + served.get(0) + "'" : "models " + served) + ", not '"
            + request.model() + "'", workerId);
  }

  /** Stops one stream (client gone, gateway cancelled). Unknown ids are ignored: the stream already ended. */
  public void cancel(String streamId, String reason) {
    Tracked tracked = streams.get(streamId);
    if (tracked != null) {
      log.info("generation cancelled", kv("requestId", tracked.request.requestId()), kv("workerId", workerId),
          kv("reason", reason));
      tracked.cancel();
    }
  }

  /** Stops every stream opened by a gateway on a node that left the cluster: nobody will read them. */
  public void cancelForGatewayNode(String gatewayNodeId) {
    for (Tracked tracked : new ArrayList<>(streams.values())) {
      if (gatewayNodeId.equals(tracked.request.gatewayNodeId())) {
        log.info("generation cancelled: its gateway node left the cluster",
            kv("requestId", tracked.request.requestId()), kv("workerId", workerId), kv("gatewayNode", gatewayNodeId));
        tracked.cancel();
      }
    }
  }

  /**
   * Takes no new work and completes when every admitted stream has ended, or after the drain timeout, when
   * what is left fails with a retryable {@code WORKER_STOPPING} error (the gateway can retry it elsewhere).
   */
  public Future<Void> drain() {
    draining = true;
    if (streams.isEmpty()) {
      return Future.succeededFuture();
    }
    if (drained == null) {
      drained = Promise.promise();
      log.info("draining: waiting for in-flight generations", kv("workerId", workerId),
          kv("inFlight", streams.size()), kv("drainTimeoutMs", options.getDrainTimeoutMs()));
      long timer = vertx.setTimer(Math.max(1, options.getDrainTimeoutMs()), id -> {
        // Queued ones first: failing a running one frees a slot, which must not start a queued one now.
        List<Tracked> unfinished = new ArrayList<>(streams.values());
        unfinished.sort((a, b) -> Boolean.compare(a.holdsSlot, b.holdsSlot));
        for (Tracked tracked : unfinished) {
          log.warn("drain timeout: failing unfinished generation", kv("requestId", tracked.request.requestId()),
              kv("workerId", workerId));
          tracked.failFromWorker(GenerateError.of(GenerateError.Code.WORKER_STOPPING, "worker " + workerId
              + " shut down before this generation finished (drain timeout "
              + options.getDrainTimeoutMs() + " ms)", workerId));
        }
      });
      drained.future().onComplete(done -> vertx.cancelTimer(timer));
    }
    return drained.future();
  }

  /**
   * An operator's drain: no new work (gateways stop routing here once they see the load report), streams in
   * progress finish; unlike {@link #drain()} the worker stays up and {@link #undrainByOperator()} takes it back.
   */
  public void drainByOperator(String because) {
    heldBecause = because;
    log.info("worker drained by an operator: it finishes its streams and takes no new requests",
        kv("workerId", workerId), kv("inFlight", streams.size()), kv("reason", because));
  }

  public void undrainByOperator() {
    if (heldBecause != null) {
      heldBecause = null;
      log.info("worker undrained by an operator: it takes requests again", kv("workerId", workerId));
    }
  }

  public boolean drainedByOperator() {
    return heldBecause != null;
  }

  /** Generations admitted and not over (running or queued). */
  public int openStreams() {
    return streams.size();
  }

  public LoadReport loadReport() {
    String unavailable = heldBecause != null ? heldBecause : engine.unavailableReason();
    return new LoadReport(workerId, nodeId, options.announcedModel(), scheduler.running(), scheduler.queued(),
        scheduler.free(), scheduler.slots(), draining, System.currentTimeMillis(), engine.status(),
        engine.models(), engine.embeddingModels(), unavailable, engine.nativeDialects(), engine.catalog());
  }

  /**
   * Loads or unloads a model of the engine's model directory on a gateway's request; fails with a
   * {@link ModelControlException} (its typed error names the model, the worker and the cause).
   */
  public Future<ModelEntry> controlModel(ModelCommand command) {
    if (!engine.loadsOnDemand()) {
      return Future.failedFuture(new ModelControlException(GenerateError.of(GenerateError.Code.MODEL_NOT_SERVED,
          "worker " + workerId + " (engine " + engine.kind() + ") has no model directory and loads no models on "
              + "demand; it serves " + servedModels(), workerId)));
    }
    if (command.action() == ModelCommand.Action.LOAD && (draining || heldBecause != null)) {
      return Future.failedFuture(new ModelControlException(GenerateError.of(GenerateError.Code.WORKER_STOPPING,
          "worker " + workerId + " takes no new work (" + (draining ? "it is draining" : heldBecause)
              + "); model '" + command.model() + "' was not loaded", workerId)));
    }
    Future<ModelEntry> done = command.action() == ModelCommand.Action.LOAD
        ? engine.loadModel(command.model(), !command.placement())
        : engine.unloadModel(command.model());
    return done.recover(failure -> Future.failedFuture(failure instanceof ModelControlException known ? known
        : new ModelControlException(GenerateError.of(GenerateError.Code.ENGINE_FAILED, "worker " + workerId
            + " could not " + command.action().name().toLowerCase() + " model '" + command.model() + "': "
            + failure.getMessage(), workerId))));
  }

  /** The engine's model directory catalog (empty for engines without one). */
  public ModelCatalog catalog() {
    return engine.catalog();
  }

  /** Not draining, not drained by an operator, and the engine can take work (its backend is up). */
  public boolean acceptsWork() {
    return !draining && heldBecause == null && engine.unavailableReason() == null;
  }

  public boolean isDraining() {
    return draining;
  }

  private void ended(Tracked tracked, boolean heldSlot) {
    if (streams.remove(tracked.request.streamId()) == null) {
      return;
    }
    tracked.onClosed.run();
    if (heldSlot) {
      scheduler.release();
    } else {
      scheduler.dequeue(tracked.starter);
    }
    if (drained != null && streams.isEmpty()) {
      drained.tryComplete();
    }
  }

  /** One admitted stream: queued until it holds a slot, then running on the engine until it ends. */
  private final class Tracked implements ChunkSink {
    final GenerateRequest request;
    final ChunkSink transport;
    final Runnable onClosed;
    final long admittedNanos = System.nanoTime();
    Generation generation;
    boolean holdsSlot;
    boolean finished;
    // The scheduler compares queued entries by identity; keep one Runnable per stream.
    final Runnable starter = this::begin;

    Tracked(GenerateRequest request, ChunkSink transport, Runnable onClosed) {
      this.request = request;
      this.transport = transport;
      this.onClosed = onClosed;
    }

    private void begin() {
      holdsSlot = true;
      try {
        generation = engine.generate(request, this);
      } catch (RuntimeException bug) {
        // An engine that throws must not leave the request waiting for chunks that never come.
        log.error("engine failed on a request", kv("requestId", request.requestId()), kv("workerId", workerId),
            kv("component", "worker"), bug);
        fail(GenerateError.of(GenerateError.Code.ENGINE_FAILED, "engine of worker " + workerId + " failed on request "
            + request.requestId() + ": " + bug.getClass().getSimpleName() + ": " + bug.getMessage(), workerId));
      }
    }

    void cancel() {
      if (finished) {
        return;
      }
      finished = true;
      if (generation != null) {
        generation.cancel();
      }
      ended(this, holdsSlot);
    }

    void failFromWorker(GenerateError error) {
      if (finished) {
        return;
      }
      if (generation != null) {
        generation.cancel();
      }
      fail(error);
    }

    @Override
    public void write(String text, int tokens, JsonObject extra) {
      if (!finished) {
        transport.write(text, tokens, extra);
      }
    }

    @Override
    public void end(String text, int tokens, String finishReason, Usage usage, JsonObject extra) {
      if (finished) {
        return;
      }
      if (extra != null) {
        // A whole answer (embeddings) comes as one message: refused here alike on every plane when too large.
        int bytes = JsonText.buffer(extra).length();
        if (messageLimit.tooLarge(bytes)) {
          fail(GenerateError.of(GenerateError.Code.TOO_LARGE, "the answer takes " + bytes + " bytes, more than the "
              + messageLimit.maxBytes() + " bytes the request planes carry (grpc.maxMessageBytes). Ask for less "
              + "(fewer inputs, fewer dimensions), or an operator can raise grpc.maxMessageBytes on every node",
              workerId));
          return;
        }
      }
      finished = true;
      transport.end(text, tokens, finishReason, usage, extra);
      if (log.isDebugEnabled()) {
        log.debug("generation finished", kv("requestId", request.requestId()), kv("workerId", workerId),
            kv("finishReason", finishReason), kv("completionTokens", usage.completionTokens()),
            kv("durationMs", (System.nanoTime() - admittedNanos) / 1_000_000));
      }
      ended(this, true);
    }

    @Override
    public void fail(GenerateError error) {
      if (finished) {
        return;
      }
      finished = true;
      transport.fail(error);
      log.warn("generation failed", kv("requestId", request.requestId()), kv("workerId", workerId),
          kv("code", error.code().name()), kv("reason", error.message()));
      ended(this, holdsSlot);
    }

    @Override
    public boolean writeQueueFull() {
      return transport.writeQueueFull();
    }

    @Override
    public void drainHandler(Runnable handler) {
      transport.drainHandler(handler);
    }
  }
}
