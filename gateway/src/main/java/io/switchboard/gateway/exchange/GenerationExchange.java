package io.switchboard.gateway.exchange;

import io.switchboard.gateway.api.CompletionRequest;
import io.switchboard.gateway.api.InFlightRequests;
import io.switchboard.gateway.http.ApiError;
import io.switchboard.gateway.http.ClientText;
import io.switchboard.gateway.security.ApiKey;
import io.switchboard.gateway.security.ApiKeyAuth;
import io.switchboard.gateway.security.LogThrottle;
import io.switchboard.gateway.admission.AdmissionQueue;
import io.switchboard.gateway.models.ModelChain;
import io.switchboard.gateway.models.ModelPlacement;
import io.switchboard.gateway.plane.ChunkStream;
import io.switchboard.gateway.plane.WorkerRefusedException;
import io.switchboard.gateway.registry.WorkerState;
import io.switchboard.gateway.resilience.WorkerCircuits;
import io.switchboard.gateway.routing.Pick;
import io.switchboard.gateway.routing.Route;
import io.switchboard.gateway.routing.RouteRequest;
import io.switchboard.gateway.tracing.RequestSpans;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.ModelEntry;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.ResumeState;
import io.switchboard.protocol.StreamChunk;
import io.switchboard.protocol.TraceContext;
import io.switchboard.protocol.Usage;
import io.switchboard.runtime.ids.RandomIds;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * One client request from worker selection to its last byte, whatever its dialect: picks a worker, offers the request
 * (another worker if one refuses, or fails before the first token), hands what the worker generates to the dialect's
 * {@link AnswerWriter}, and makes sure the client always learns how it ended: complete, or failed (an error answer,
 * or an error event that ends the stream so it cannot pass for complete). A client that goes away cancels the generation on the worker. A client that
 * stops reading holds the worker back (flow control) for gateway.limits.clientStallTimeoutMs at most; then the
 * request ends with 499, its connection is closed and the generation cancelled, and the worker is not blamed.
 * Every attempt holds a permit of its worker's circuit, ended by what the attempt's outcome says about the worker.
 * What is kept about the request beside answering it (metrics, its span, the key's token budget, the access log) is
 * the gateway's {@link ExchangeListener}s' job: the exchange tells them what happens.
 */
public final class GenerationExchange implements InFlightRequests.Described {

  private static final Logger log = LoggerFactory.getLogger(GenerationExchange.class);
  /** Response header naming the worker that served the request: the first thing an operator asks. */
  public static final String WORKER_HEADER = "x-switchboard-worker";
  // Header names and values encoded once, not on every response.
  private static final CharSequence WORKER_HEADER_NAME = HttpHeaders.createOptimized(WORKER_HEADER);
  /** Response header naming the model that served the request: an alias's model, or the one asked for. */
  public static final String MODEL_HEADER = "x-switchboard-model";
  private static final CharSequence MODEL_HEADER_NAME = HttpHeaders.createOptimized(MODEL_HEADER);
  /**
   * Lines about requests that failed for the client's own reasons (4xx, and 499 for a client that left): at most 10
   * of each per second, the next one let through saying how many were left out. A client can send bad requests as
   * fast as it likes; the metrics count them all.
   */
  private static final LogThrottle CLIENT_ERROR_LINES = new LogThrottle(1000, 10);
  private static final LogThrottle CLIENT_GONE_LINES = new LogThrottle(1000, 10);
  /** How often a streamed request held while its model loads gets an SSE comment (the first goes out at once). */
  static final long LOAD_KEEPALIVE_MS = 2000;

  private final GatewayServices services;
  private final RoutingContext ctx;
  private final HttpServerResponse response;
  private final CompletionRequest request;
  /** The model as logs and messages name it: the client's string, cut short if long. */
  private final String shownModel;
  private final String requestId;
  private final String endpoint;
  private final AnswerWriter answer;
  /** What the listeners are told on every event; made once per request. */
  private final ExchangeFacts facts;
  private final ExchangeListener listeners;
  private final long startNanos = System.nanoTime();
  private final Set<String> triedWorkers = new HashSet<>();
  /** The text generated so far, over every worker: a migrated stream continues from it. */
  private final StringBuilder text = new StringBuilder();
  /** The served models the request may go to (an alias's, in order) and the one it tries now. */
  private final ModelChain chain;
  /** What the router is told of the request: the model it tries now, the prompt and the session. */
  private RouteRequest route;
  /** The tokens a model's context must hold for this request (estimated); -1 until needed. */
  private long neededTokens = -1;
  /**
   * The first model of this pass over the alias's models that may wait for room (its workers busy or kept away by
   * their circuits): where the request waits when every model passed over it; -1 when none may.
   */
  private int waitPosition = -1;
  private GenerateError waitRefusal;
  private int waitWorkers;
  /** The model whose admission queue the request waits in. */
  private String queuedModel;
  private ChunkStream stream;
  private String workerId;
  /** The current attempt's route; released from the router's counts when the attempt ends. */
  private Route routed;
  /** The current attempt's hold on its worker's circuit; ended by the attempt's outcome (or when the request ends). */
  private WorkerCircuits.Permit permit;
  /** How long the client has left the gateway's writes unread, and the limit. */
  private final ClientStall stall;
  /** The answer's last write: the request's outcome is known once it went out (or the client would not take it). */
  private Future<Void> written;
  private boolean recorded;
  /** Why the last attempt went to its worker (the router's reason: prefix, load, balance, session, ...). */
  private String routedBecause;
  private boolean sentSomething;
  /** Tool-call or logprob deltas went out: such a stream cannot be continued elsewhere from text alone. */
  private boolean sentExtra;
  /** Completion tokens received so far, over every worker the request went through. */
  private int tokensSoFar;
  private int migrations;
  /** Workers offered the request since it last made progress (reset when a stream migrates). */
  private int attemptsThisLeg;
  private final long deadlineEpochMs;
  /** W3C trace context sent to workers and backends: the client's trace continued, or a new one. */
  private final TraceContext trace;
  private final FirstTokenWatchdog firstTokenWatchdog;
  /** Set while the request waits for a worker of its model to have room; null otherwise. */
  private AdmissionQueue.Waiter waiter;
  private long queuedSinceNanos;
  /** The load of the request's model it is held for (its waiter is then a hold); null otherwise. */
  private ModelPlacement.Load loading;
  private long keepAliveTimer = -1;
  /** Whether a worker ever took this request (so its end frees capacity for a waiting one). */
  private boolean heldAWorker;
  /** The models whose workers took this request (one, but for an alias's request that fell back after a failure). */
  private final Set<String> heldModels = new java.util.LinkedHashSet<>(2);
  private boolean finished;
  private long firstTokenNanos = -1;
  private long lastTextNanos = -1;

  public GenerationExchange(GatewayServices services, RoutingContext ctx, CompletionRequest request, String requestId,
                            String endpoint, AnswerWriter answer) {
    this.services = services;
    this.ctx = ctx;
    this.response = ctx.response();
    this.request = request;
    this.shownModel = ClientText.shown(request.model());
    this.requestId = requestId;
    this.endpoint = endpoint;
    this.answer = answer;
    this.chain = ModelChain.of(request.model(), services.options().getModels().aliases(), ApiKeyAuth.of(ctx));
    this.route = new RouteRequest(chain.current(), request.prompt(), sessionKey(services, ctx, request));
    this.deadlineEpochMs = System.currentTimeMillis() + services.options().getRequestTimeoutMs();
    RequestSpans.RequestSpan span = services.spans().start(endpoint + " " + shownModel,
        ctx.request().getHeader("traceparent"), ctx.request().getHeader("tracestate"));
    this.trace = span.downstream();
    this.facts = new ExchangeFacts(requestId, endpoint, request, shownModel, ApiKeyAuth.of(ctx), span);
    this.listeners = services.exchangeListeners();
    this.firstTokenWatchdog = new FirstTokenWatchdog(services.deadlines(), services.options().getFirstTokenTimeoutMs());
    this.stall = new ClientStall(services.deadlines(), services.options().getLimits().getClientStallTimeoutMs());
  }

  /** The session a request belongs to, for session affinity: the session header, else the body's user. */
  private static String sessionKey(GatewayServices services, RoutingContext ctx, CompletionRequest request) {
    String header = ctx.request().getHeader(services.options().getRouter().getSessionHeader());
    if (header != null && !header.isBlank()) {
      return header;
    }
    Object user = request.body().getValue("user");
    return user instanceof String name && !name.isBlank() ? name : null;
  }

  public void start() {
    listeners.started(facts);
    services.inFlight().opened(this);
    response.closeHandler(v -> onClientGone());
    attempt(null);
  }

  /** Offers the request to the next worker; {@code lastRefusal} is why the previous one did not take it. */
  private void attempt(GenerateError lastRefusal) {
    if (finished) {
      return;
    }
    String model = chain.current();
    List<WorkerState> known = services.registry().workersOf(model, request.kind());
    if (known.isEmpty()) {
      if (fallBack(lastRefusal != null
          ? "its last worker failed (" + lastRefusal.code().name() + ") and it has no other"
          : services.registry().departures().lastServing(model).isPresent() ? "its workers left"
          : "no worker serves it")) {
        return;
      }
      if (waitHere()) {
        return;
      }
      // After a failed attempt the model may have lost its last worker: the failure is what the client needs.
      fail(lastRefusal != null ? WorkerFailures.toApiError(lastRefusal, requestId)
          : chain.isAlias() ? aliasUnavailable(known) : modelNotFound(), lastRefusal);
      return;
    }
    GenerateRequest generate = generateRequest();
    GenerateError tooLarge = services.plane().tooLarge(generate, Math.max(0, ctx.body().length()));
    if (tooLarge != null) {
      // The client's to fix, on every worker alike: no worker is chosen, tried or blamed.
      fail(WorkerFailures.toApiError(tooLarge, requestId), tooLarge);
      return;
    }
    if (chain.isAlias() && chain.hasNext() && services.options().getModels().isContextFallback()
        && request.kind() != RequestKind.EMBEDDING && !sentSomething) {
      String tooLong = ModelChain.tooLong(model, known, neededTokens());
      if (tooLong != null && fallBack(tooLong)) {
        return;
      }
    }
    List<WorkerState> candidates = known.stream()
        .filter(WorkerState::routable)
        .filter(w -> !triedWorkers.contains(w.workerId()))
        .filter(w -> services.circuits().allows(w.workerId()))
        .toList();
    if (!candidates.isEmpty() && attemptsThisLeg < services.options().getMaxAttempts()) {
      // Workers that have the model loaded first; a model loaded nowhere is loaded where there is room, and waited for.
      ModelPlacement placement = services.placement();
      List<WorkerState> warm = candidates.stream().filter(w -> placement.isWarm(w, model)).toList();
      if (warm.size() < candidates.size()) {
        if (!warm.isEmpty()) {
          candidates = warm;
        } else if (lastRefusal != null && lastRefusal.code() == GenerateError.Code.WORKER_BUSY
            && known.stream().anyMatch(w -> w.routable() && placement.isWarm(w, model))) {
          // Its loaded workers are full: wait for them rather than load it on another worker for this request.
          candidates = List.of();
        } else {
          ModelPlacement.BackedOff backedOff = placement.backedOff(model, candidates);
          if (backedOff != null) {
            // Its last load failed on every worker that could load it, and they back off: the recorded failure now.
            if (fallBack("it backs off after a failed load: " + backedOff.error().message())) {
              return;
            }
            leaveQueue();
            fail(backingOff(backedOff), backedOff.error());
            return;
          }
          ModelPlacement.Load load = placement.load(model, candidates);
          if (holdForLoad(load)) {
            return;
          }
          // No admission queue to hold it in: the request goes to the worker loading the model and waits there.
          candidates = candidates.stream().filter(w -> w.workerId().equals(load.workerId())).toList();
        }
      }
    }
    if (candidates.isEmpty() || attemptsThisLeg >= services.options().getMaxAttempts()) {
      if (waitPosition < 0 && mayWaitForRoom(lastRefusal, known)) {
        waitPosition = chain.position();
        waitRefusal = lastRefusal;
        waitWorkers = known.size();
      }
      if (fallBack(lastRefusal != null
          ? "its workers did not take the request (last: " + lastRefusal.code().name() + ")"
          : "none of its " + known.size() + " worker" + (known.size() == 1 ? "" : "s") + " can take requests now")) {
        return;
      }
      if (waitHere()) {
        return;
      }
      leaveQueue();
      fail(lastRefusal != null ? WorkerFailures.toApiError(lastRefusal, requestId)
          : chain.isAlias() ? aliasUnavailable(known) : noRoutableWorker(known), lastRefusal);
      return;
    }
    releaseRoute();
    endPermit("the request went on to another worker");
    routed = services.router().route(route, candidates);
    Pick pick = routed.pick();
    routedBecause = pick.reason();
    WorkerState worker = pick.worker();
    listeners.routed(facts, services.router().policyName(model), pick, route.prompt().length());
    triedWorkers.add(worker.workerId());
    attemptsThisLeg++;
    WorkerCircuits.Permit attemptPermit = services.circuits().routed(worker.workerId());
    permit = attemptPermit;
    workerId = worker.workerId();
    // The client's own body only to a worker whose backend serves its dialect (never on a resumed attempt).
    services.plane().open(worker, generate.forWorker(worker.nativeDialects())).onComplete(opened -> {
      if (opened.failed()) {
        GenerateError refusal = opened.cause() instanceof WorkerRefusedException refused ? refused.error()
            : GenerateError.of(GenerateError.Code.ENGINE_FAILED, String.valueOf(opened.cause().getMessage()),
                worker.workerId());
        judge(attemptPermit, refusal);
        retryOrFail(refusal);
        return;
      }
      ChunkStream opening = opened.result();
      stream = opening;
      heldAWorker = true;
      heldModels.add(model);
      leaveQueue();
      if (!response.headWritten()) {
        response.putHeader(WORKER_HEADER_NAME, worker.workerId());
        response.putHeader(MODEL_HEADER_NAME, model);
      }
      if (!answer.started() && !sentSomething) {
        answer.servedBy(model);
      }
      if (finished) {
        opening.cancel("client disconnected");
        return;
      }
      // Armed before the handler: chunks already queued (the same-node plane) are delivered inside handler(), and
      // may end the request there; a watchdog armed after it would hold the finished exchange until it expired.
      watchFirstToken(opening, worker.workerId());
      // Only the current stream speaks: one given up on (first-token timeout) may still have chunks in flight.
      opening.handler(chunk -> {
        if (opening == stream) {
          onChunk(chunk);
        }
      });
    });
  }

  /**
   * Passes the request on to its alias's next model, when there is one and nothing of the answer went out yet (a
   * stream that started stays on its model: another model would not continue it), and tries that one's workers.
   *
   * @return false when the request stays on its model
   */
  private boolean fallBack(String why) {
    if (finished || !chain.hasNext() || sentSomething || answer.started()) {
      return false;
    }
    String from = chain.current();
    chain.passOver(why);
    route = route.forModel(chain.current());
    triedWorkers.clear();
    attemptsThisLeg = 0;
    listeners.fellBack(facts, from, chain.current(), why);
    log.info("alias falls back to its next model", kv("requestId", requestId), kv("alias", shownModel),
        kv("from", from), kv("to", chain.current()), kv("reason", why));
    attempt(null);
    return true;
  }

  /**
   * Every model of the request's alias (or its one model) was passed over: waits for room at the first of them that
   * may wait (its workers full or kept away by their circuits), if one may.
   *
   * @return false when none may wait
   */
  private boolean waitHere() {
    if (waitPosition < 0) {
      return false;
    }
    int position = waitPosition;
    GenerateError refusal = waitRefusal;
    waitPosition = -1;
    waitRefusal = null;
    chain.restartAt(position);
    if (!route.model().equals(chain.current())) {
      route = route.forModel(chain.current());
    }
    waitForRoom(refusal, waitWorkers);
    return true;
  }

  private long neededTokens() {
    if (neededTokens < 0) {
      neededTokens = ModelChain.neededTokens(request);
    }
    return neededTokens;
  }

  /** The model a message names: the one asked for, or the alias's model tried now and the alias. */
  private String modelShown() {
    return chain.isAlias() ? "'" + chain.current() + "' (of the alias '" + shownModel + "')" : "'" + shownModel + "'";
  }

  private void retryOrFail(GenerateError refusal) {
    listeners.attemptFailed(facts, refusal);
    if (refusal.retryable()) {
      long delayMs = services.retryBackoff().delayMs(attemptsThisLeg);
      log.info("worker did not take the request; trying another", kv("requestId", requestId),
          kv("workerId", refusal.workerId()), kv("code", refusal.code().name()), kv("reason", refusal.message()),
          kv("afterMs", delayMs));
      if (delayMs == 0) {
        attempt(refusal);
      } else {
        ctx.vertx().setTimer(delayMs, id -> attempt(refusal));
      }
    } else {
      fail(WorkerFailures.toApiError(refusal, requestId), refusal);
    }
  }

  private GenerateRequest generateRequest() {
    // A migrated stream carries what was generated so far: the next worker continues from there.
    ResumeState resume = sentSomething ? new ResumeState(text.toString(), tokensSoFar) : ResumeState.EMPTY;
    return new GenerateRequest(RandomIds.next(), requestId, chain.current(), request.kind(),
        request.body(), request.prompt(), request.sampling(), deadlineEpochMs,
        trace, resume, services.nodeId(), services.replyAddress(),
        services.options().getStreamCredits(), resume.isEmpty() ? request.nativeForm() : null);
  }

  /**
   * Nothing reached the client yet, and every worker refused for being full or is kept away by its circuit
   * breaker: the request may wait for one to have room or recover.
   */
  private boolean mayWaitForRoom(GenerateError lastRefusal, List<WorkerState> known) {
    if (sentSomething || answer.started() || finished || services.options().getAdmissionQueueSize() == 0) {
      return false;
    }
    boolean busy = lastRefusal != null && lastRefusal.code() == GenerateError.Code.WORKER_BUSY;
    return busy || known.stream().anyMatch(w -> w.routable() && !services.circuits().allows(w.workerId()));
  }

  /**
   * Ends an attempt's permit by what its error says about the worker: the worker's own failure counts against its
   * circuit (logged when that opens it); busy, stopping, a deadline or a bad request say nothing about its health,
   * and only give a probe's permit back.
   */
  private void judge(WorkerCircuits.Permit attempt, GenerateError error) {
    if (error.code() != GenerateError.Code.ENGINE_FAILED) {
      attempt.released("the last probe ended " + error.code().name());
      return;
    }
    if (attempt.failed(error.message())) {
      log.warn("circuit opened: no requests to this worker until a probe succeeds", kv("requestId", requestId),
          kv("model", shownModel), kv("workerId", attempt.workerId()),
          kv("reason", services.circuits().why(attempt.workerId())));
    }
  }

  /** Ends the current attempt's permit without a verdict on the worker, if it is still open. */
  private void endPermit(String why) {
    if (permit != null) {
      permit.released(why);
    }
  }

  /**
   * Waits in the model's line for a worker with room (instead of "busy" at once); tries every worker again when
   * woken, and gets 503 with Retry-After if the wait passes gateway.admissionTimeoutMs.
   */
  private void waitForRoom(GenerateError lastRefusal, int workers) {
    triedWorkers.clear();
    attemptsThisLeg = 0;
    String model = chain.current();
    if (waiter != null && model.equals(queuedModel)) {
      waiter.waitAgain();
      return;
    }
    if (waiter != null) {
      // An alias's request that waited for another of its models: it waits for this one now.
      waiter.leave();
      waiter = null;
    }
    queuedModel = model;
    long timeoutMs = services.options().getAdmissionTimeoutMs();
    waiter = services.admission().enqueue(model, () -> attempt(lastRefusal), timeoutMs,
        () -> {
          waiter = null;
          response.putHeader("retry-after", "2");
          fail(new ApiError(503, "service_unavailable_error", "queue_timeout", "model", "All " + workers
              + " worker" + (workers == 1 ? "" : "s") + " of model " + modelShown() + " stayed full or failing "
              + "(circuit open) for the " + timeoutMs + " ms this request waited in the gateway's queue "
              + "(gateway.admissionTimeoutMs; request " + requestId + "). Retry later, or add workers or slots; "
              + "GET /admin/cluster shows each worker's load and circuit."), lastRefusal);
        });
    if (waiter == null) {
      response.putHeader("retry-after", "2");
      fail(new ApiError(503, "service_unavailable_error", "queue_full", "model", "All " + workers + " worker"
          + (workers == 1 ? "" : "s") + " of model " + modelShown() + " are full and "
          + services.options().getAdmissionQueueSize() + " requests already wait for them "
          + "(gateway.admissionQueueSize; request " + requestId + "). Retry later, or add workers or slots."),
          lastRefusal);
      return;
    }
    queuedSinceNanos = System.nanoTime();
    listeners.queued(facts);
    log.info("no worker of the model can take it now; request waits in the gateway's queue",
        kv("requestId", requestId), kv("model", shownModel), kv("servedModel", model),
        kv("waiting", services.admission().waiting(model)),
        kv("reason", lastRefusal != null ? lastRefusal.message() : "every worker's circuit is open"));
  }

  /**
   * Holds the request while its model loads on {@code load}'s worker: counted with the model's waiters in the
   * admission queue, for gateway.admissionTimeoutMs at most; a streamed request gets SSE comments meanwhile. When the
   * load is done the request is offered again (the worker has the model now); when it fails, an alias goes on to its
   * next model, else the request ends with the load's cause.
   *
   * @return false when the gateway has no admission queue (gateway.admissionQueueSize 0): nothing was done
   */
  private boolean holdForLoad(ModelPlacement.Load load) {
    if (services.options().getAdmissionQueueSize() == 0) {
      return false;
    }
    String model = chain.current();
    if (waiter != null) {
      waiter.leave();
      waiter = null;
    }
    long timeoutMs = services.options().getAdmissionTimeoutMs();
    waiter = services.admission().hold(model, timeoutMs, () -> {
      waiter = null;
      loading = null;
      stopKeepAlive();
      retryAfter("2");
      fail(new ApiError(503, "service_unavailable_error", "model_loading", "model", "Model " + modelShown()
          + " was still loading on worker " + load.workerId() + " (node " + load.nodeId() + ") after the " + timeoutMs
          + " ms this request waited for it (gateway.admissionTimeoutMs; request " + requestId + "). The load goes "
          + "on: retry shortly; GET /admin/cluster shows it under placement."), null);
    });
    if (waiter == null) {
      retryAfter("2");
      fail(new ApiError(503, "service_unavailable_error", "queue_full", "model", "Model " + modelShown()
          + " is loading on worker " + load.workerId() + " and " + services.options().getAdmissionQueueSize()
          + " requests already wait for it (gateway.admissionQueueSize; request " + requestId + "). Retry shortly."),
          null);
      return true;
    }
    loading = load;
    queuedModel = model;
    queuedSinceNanos = System.nanoTime();
    listeners.queued(facts);
    log.info("model loaded on no worker; request held while it loads", kv("requestId", requestId),
        kv("model", shownModel), kv("servedModel", model), kv("workerId", load.workerId()),
        kv("node", load.nodeId()), kv("because", load.because()), kv("held", services.admission().held(model)));
    if (!response.headWritten()) {
      // What will serve it, as far as the gateway knows now: a keep-alive comment sends the head.
      response.putHeader(WORKER_HEADER_NAME, load.workerId());
      response.putHeader(MODEL_HEADER_NAME, model);
    }
    startKeepAlive(load);
    load.done().onComplete(done -> onLoadDone(load, done));
    return true;
  }

  private void onLoadDone(ModelPlacement.Load load, AsyncResult<ModelEntry> done) {
    if (finished || loading != load) {
      return;
    }
    loading = null;
    stopKeepAlive();
    leaveQueue();
    if (done.succeeded()) {
      attempt(null);
      return;
    }
    GenerateError error = ModelPlacement.errorOf(done.cause(), load);
    if (fallBack("its load on worker " + load.workerId() + " failed: " + error.message())) {
      return;
    }
    fail(loadFailed(load, error), error);
  }

  /** The request's model could not be loaded: what failed, where, and why; never a 500, and never the client's 4xx. */
  private ApiError loadFailed(ModelPlacement.Load load, GenerateError error) {
    String message = "Model " + modelShown() + " could not be loaded on worker " + load.workerId() + " (node "
        + load.nodeId() + "): " + error.message() + " (request " + requestId + "). GET /admin/cluster shows the "
        + "model's state on each worker.";
    return switch (error.code()) {
      case WORKER_BUSY, WORKER_STOPPING, MODEL_NOT_SERVED -> {
        retryAfter("2");
        yield new ApiError(503, "service_unavailable_error", "model_load_failed", "model", message);
      }
      case DEADLINE_EXCEEDED -> new ApiError(504, "timeout_error", "model_load_timeout", "model", message);
      default -> new ApiError(502, "upstream_error", "model_load_failed", "model", message);
    };
  }

  /** No worker may load the request's model now: its recorded failure, as the load's own, and when to retry. */
  private ApiError backingOff(ModelPlacement.BackedOff backedOff) {
    retryAfter(Long.toString(backedOff.retryInSeconds()));
    return new ApiError(502, "upstream_error", "model_load_failed", "model", "Model " + modelShown() + " could not "
        + "be loaded on worker " + backedOff.workerId() + " (node " + backedOff.nodeId() + "): "
        + backedOff.error().message() + " (request " + requestId + "). GET /admin/cluster shows the model's state on "
        + "each worker.");
  }

  private void retryAfter(String seconds) {
    if (!response.headWritten()) {
      response.putHeader("retry-after", seconds);
    }
  }

  /** A streamed request held for a load: a comment now, and every {@link #LOAD_KEEPALIVE_MS} until the load ends. */
  private void startKeepAlive(ModelPlacement.Load load) {
    String comment = "loading model " + load.model() + " on worker " + load.workerId();
    if (!answer.keepAlive(comment)) {
      return;
    }
    long since = System.nanoTime();
    keepAliveTimer = ctx.vertx().setPeriodic(LOAD_KEEPALIVE_MS, id -> {
      if (finished || loading != load) {
        stopKeepAlive();
        return;
      }
      answer.keepAlive(comment + " (" + (System.nanoTime() - since) / 1_000_000_000 + " s)");
    });
  }

  private void stopKeepAlive() {
    if (keepAliveTimer >= 0) {
      ctx.vertx().cancelTimer(keepAliveTimer);
      keepAliveTimer = -1;
    }
  }

  private void leaveQueue() {
    if (waiter != null) {
      waiter.leave();
      waiter = null;
      log.info("request left the queue for a worker", kv("requestId", requestId), kv("model", shownModel),
          kv("waitedMs", (System.nanoTime() - queuedSinceNanos) / 1_000_000));
    }
  }

  /** Gives up on {@code opening} if its worker sends nothing within gateway.firstTokenTimeoutMs. */
  private void watchFirstToken(ChunkStream opening, String worker) {
    firstTokenWatchdog.watch(() -> {
      if (finished || opening != stream) {
        return;
      }
      long limit = firstTokenWatchdog.limitMs();
      stream = null;
      opening.cancel("no first token within " + limit + " ms");
      onStreamError(GenerateError.of(GenerateError.Code.ENGINE_FAILED, "worker " + worker + " sent no token within "
          + limit + " ms (gateway.firstTokenTimeoutMs)", worker));
    });
  }

  private void onChunk(StreamChunk chunk) {
    if (finished) {
      return;
    }
    firstTokenWatchdog.produced();
    if (chunk.error() != null) {
      onStreamError(chunk.error());
      return;
    }
    boolean generative = request.kind() != RequestKind.EMBEDDING;
    if (generative) {
      tokensSoFar += chunk.tokens();
    }
    if (generative && (!chunk.text().isEmpty() || chunk.extra() != null)) {
      routed.firstToken();
      permit.answered();
      long now = System.nanoTime();
      if (firstTokenNanos < 0) {
        firstTokenNanos = now;
        listeners.firstToken(facts, firstTokenNanos - startNanos);
      } else {
        listeners.interToken(facts, now - lastTextNanos);
      }
      lastTextNanos = now;
      sentExtra |= chunk.extra() != null && !onlyReasoning(chunk.extra());
      answer.delta(chunk.text(), chunk.extra());
      text.append(chunk.text());
      // Tool calls alone also mean something reached the client: no retry elsewhere after this.
      sentSomething = true;
    }
    if (chunk.isLast()) {
      complete(chunk.finishReason(), chunk.usage(), generative ? null : chunk.extra());
      return;
    }
    if (request.stream() && response.writeQueueFull()) {
      // The client's connection is full: hold the worker back until it drains, for the stall timeout at most.
      stream.pause();
      stall.stalled(this::onClientStalled);
      response.drainHandler(v -> {
        stall.drained();
        if (stream != null) {
          stream.resume();
        }
      });
    }
  }

  /**
   * Whether a chunk's extra is only reasoning text (a reasoning model's thinking, streamed before its answer): that
   * does not keep a stream from being continued elsewhere, which goes on from the answer's text. Tool-call and
   * logprob deltas do, since another worker cannot continue them.
   */
  private static boolean onlyReasoning(JsonObject extra) {
    if (extra.size() != 1 || !(extra.getValue("delta") instanceof JsonObject delta)) {
      return false;
    }
    for (String field : delta.fieldNames()) {
      if (!"reasoning_content".equals(field) && !"reasoning".equals(field)) {
        return false;
      }
    }
    return true;
  }

  private void onStreamError(GenerateError error) {
    judge(permit, error);
    boolean nothingSent = !sentSomething && !answer.started();
    if (nothingSent && error.retryable()) {
      // Before the first token a failed worker costs the client nothing but time: offer it elsewhere.
      retryOrFail(error);
      return;
    }
    if (error.retryable() && request.kind() != RequestKind.EMBEDDING && !sentExtra
        && migrations < services.options().getMigrationLimit()) {
      migrate(error);
      return;
    }
    fail(WorkerFailures.toApiError(error, requestId), error);
  }

  /**
   * The worker failed after tokens were sent: continue on another worker from the text so far. The client sees
   * one stream; the next worker's final usage counts every completion token.
   */
  private void migrate(GenerateError error) {
    migrations++;
    attemptsThisLeg = 0;
    stream = null;
    response.drainHandler(null);
    listeners.migrated(facts, error);
    log.info("worker failed mid-stream; continuing on another worker", kv("requestId", requestId),
        kv("model", shownModel), kv("workerId", error.workerId()), kv("tokensSoFar", tokensSoFar),
        kv("charsSoFar", text.length()), kv("migration", migrations), kv("migrationLimit", services.options().getMigrationLimit()),
        kv("reason", error.message()));
    attempt(error);
  }

  private void complete(String finishReason, Usage usage, JsonObject wholeAnswer) {
    permit.succeeded();
    Usage counted = usage != null ? usage : new Usage(0, 0);
    try {
      written = answer.complete(finishReason, counted, wholeAnswer);
    } catch (ApiError unusable) {
      // The worker's answer cannot be given to the client (an embeddings call that came back without a result).
      fail(new ApiError(unusable.status(), unusable.type(), unusable.code(), unusable.param(), unusable.getMessage()
          + " (worker " + workerId + ", request " + requestId + ")"), null);
      return;
    }
    finish(200, null, counted, finishReason);
  }

  private void fail(ApiError error, GenerateError cause) {
    if (finished) {
      return;
    }
    if (answer.started() || (!response.ended() && !response.closed())) {
      written = answer.failed(error);
    }
    long since = error.status() < 500 ? CLIENT_ERROR_LINES.due(System.currentTimeMillis()) : 1;
    if (since > 0) {
      log.warn("request failed", withLeftOut(since, kv("requestId", requestId), kv("traceId", trace.traceId()),
          kv("node", services.nodeId()), kv("model", shownModel),
          kv("servedModel", chain.isAlias() ? chain.current() : null),
          kv("workerId", cause != null ? cause.workerId() : workerId), kv("status", error.status()),
          kv("streamed", answer.started()), kv("reason", error.getMessage()),
          // What the worker said, when the client was told less (it may name models the client's key may not see).
          kv("workerReason", cause == null || cause.message() == null || error.getMessage().contains(cause.message())
              ? null : cause.message())));
    }
    finish(error.status(), error, null, null);
  }

  private void onClientGone() {
    if (finished) {
      return;
    }
    if (stream != null) {
      stream.cancel("client disconnected");
    }
    endPermit("the client went away");
    long since = CLIENT_GONE_LINES.due(System.currentTimeMillis());
    if (since > 0) {
      log.info("client disconnected; generation cancelled", withLeftOut(since, kv("requestId", requestId),
          kv("model", shownModel), kv("workerId", workerId), kv("status", 499), kv("tokensSent", text.length() > 0)));
    }
    finish(499, null, null, null);
  }

  /** A throttled line's fields, and how many similar lines were left out before it, if any were. */
  private static Object[] withLeftOut(long since, Object... fields) {
    if (since <= 1) {
      return fields;
    }
    Object[] all = java.util.Arrays.copyOf(fields, fields.length + 1);
    all[fields.length] = kv("similarLinesLeftOut", since - 1);
    return all;
  }

  /**
   * The client's connection took nothing for gateway.limits.clientStallTimeoutMs while the worker was held back
   * for it: the request ends with 499, the generation is cancelled, and nothing counts against the worker.
   */
  private void onClientStalled() {
    if (finished) {
      return;
    }
    ChunkStream held = stream;
    stream = null;
    if (held != null) {
      held.cancel("the client stopped reading");
    }
    endPermit("the client stopped reading");
    long stalledMs = stall.stalledMs();
    finish(499, null, null, null);
    clientStoppedReading(stalledMs);
  }

  /** Logs it, counts it, and closes the connection at once, dropping what the client did not read. */
  private void clientStoppedReading(long stalledMs) {
    log.warn("client stopped reading; request ended with 499 and its connection closed", kv("requestId", requestId),
        kv("traceId", trace.traceId()), kv("model", shownModel), kv("workerId", workerId), kv("status", 499),
        kv("stream", request.stream()), kv("bytesWritten", response.bytesWritten()),
        kv("completionTokensSent", tokensSoFar), kv("stalledMs", stalledMs),
        kv("clientStallTimeoutMs", stall.limitMs()),
        kv("client", ctx.request().remoteAddress() == null ? null : ctx.request().remoteAddress().toString()));
    services.metrics().refused("client_stall");
    ClientStall.abort(ctx.request().connection());
  }

  private void releaseRoute() {
    if (routed != null) {
      routed.release();
      routed = null;
    }
  }

  /**
   * The request is over for the gateway and the worker: everything it held is released now. Its outcome is
   * recorded (the listeners told it) once its answer went out to the connection; an answer the client does not
   * take within the stall timeout is recorded as 499 and its connection closed.
   */
  private void finish(int status, ApiError error, Usage usage, String finishReason) {
    finished = true;
    loading = null;
    stopKeepAlive();
    services.inFlight().closed(this);
    firstTokenWatchdog.cancel();
    stall.drained();
    endPermit("the request ended");
    if (waiter != null) {
      waiter.leave();
      waiter = null;
    }
    releaseRoute();
    if (heldAWorker) {
      for (String model : heldModels) {
        services.admission().capacityFreed(model);
      }
    }
    listeners.generationEnded(facts, usage, tokensSoFar);
    Future<Void> out = written;
    if (out == null || out.isComplete()) {
      record(out == null || out.succeeded() ? status : 499, error, usage, finishReason);
      return;
    }
    stall.stalled(() -> {
      if (!recorded) {
        long stalledMs = stall.stalledMs();
        record(499, error, usage, finishReason);
        clientStoppedReading(stalledMs);
      }
    });
    out.onComplete(done -> {
      stall.drained();
      if (!recorded) {
        record(done.succeeded() ? status : 499, error, usage, finishReason);
      }
    });
  }

  /** The request's outcome, once, to the listeners. */
  private void record(int status, ApiError error, Usage usage, String finishReason) {
    recorded = true;
    listeners.finished(new ExchangeOutcome(facts, status, error, usage, finishReason, workerId, routedBecause,
        firstTokenNanos < 0 ? -1 : firstTokenNanos - startNanos, System.nanoTime() - startNanos, migrations,
        tokensSoFar, workerId == null ? null : chain.current()));
  }

  /** Where this request stands, for GET /admin/requests. */
  @Override
  public JsonObject describe(long nowNanos) {
    ModelPlacement.Load held = loading;
    String phase = held != null ? "held: model " + held.model() + " is loading on worker " + held.workerId()
        : waiter != null ? "queued: every worker of the model is full or kept away by its circuit"
        : stall.stalledMs() > 0 ? "held back: the client is not reading"
        : stream == null ? "choosing a worker"
        : firstTokenNanos < 0 && !sentSomething ? "waiting for the first token"
        : "generating";
    return new JsonObject()
        .put("requestId", requestId)
        .put("traceId", trace.traceId())
        .put("model", request.model())
        .put("servedModel", chain.isAlias() ? chain.current() : request.model())
        .put("endpoint", endpoint)
        .put("stream", request.stream())
        .put("ageMs", (nowNanos - startNanos) / 1_000_000)
        .put("phase", phase)
        .put("workerId", workerId)
        .put("routedBecause", routedBecause)
        .put("workersTried", triedWorkers.size())
        .put("migrations", migrations)
        .put("completionTokensSoFar", tokensSoFar)
        .put("ttftMs", firstTokenNanos < 0 ? null : (firstTokenNanos - startNanos) / 1_000_000)
        .put("queuedMs", waiter == null ? null : (nowNanos - queuedSinceNanos) / 1_000_000)
        .put("client", ctx.request().remoteAddress() == null ? null : ctx.request().remoteAddress().toString());
  }

  private ApiError modelNotFound() {
    ApiKey key = ApiKeyAuth.of(ctx);
    if (request.kind() == RequestKind.EMBEDDING) {
      var embedding = visibleTo(key, services.registry().embeddingModels());
      return new ApiError(404, "invalid_request_error", "model_not_found", "model",
          "No worker serves embeddings for the model '" + shownModel + "'. Models with embeddings in this "
              + "cluster: " + (embedding.isEmpty() ? "none (an openai worker serves them when its backend does "
              + "and workers[N].openai.embeddingModels names the model)" : String.join(", ", embedding)) + ".");
    }
    var departed = services.registry().departures().lastServing(request.model());
    if (departed.isPresent()) {
      // The model was served a moment ago: it is unavailable, not unknown.
      response.putHeader("retry-after", "5");
      return new ApiError(503, "service_unavailable_error", "model_unavailable", "model",
          "Model '" + shownModel + "' has no worker now: " + services.registry().departures()
              .describe(departed.get()) + " (request " + requestId + "). Start a worker for it or wait for this "
              + "one to come back; GET /admin/cluster lists departedWorkers.");
    }
    var models = visibleTo(key, services.registry().models());
    String served = !models.isEmpty() ? String.join(", ", models)
        : key != null && !key.models().isEmpty() ? "none that this API key may use"
        : "none: no worker has joined the cluster yet";
    return new ApiError(404, "invalid_request_error", "model_not_found", "model",
        "The model '" + shownModel + "' does not exist or no worker serves it. Models served by this "
            + "cluster: " + served + ". GET /v1/models lists them.");
  }

  /** The models a key restricted to some models may know of: those; an unrestricted key sees all. */
  private static Set<String> visibleTo(ApiKey key, Set<String> models) {
    return key == null || key.models().isEmpty() ? models
        : models.stream().filter(key::allows).collect(Collectors.toCollection(java.util.TreeSet::new));
  }

  private ApiError noRoutableWorker(List<WorkerState> known) {
    ApiError error = new ApiError(503, "service_unavailable_error", "no_healthy_workers", "model",
        "Model '" + shownModel + "' has " + known.size() + " worker" + (known.size() == 1 ? "" : "s")
            + " and none can take this request now (request " + requestId + "): " + whyNotRoutable(known)
            + ". GET /admin/cluster shows the workers; retry shortly.");
    response.putHeader("retry-after", "1");
    return error;
  }

  /** Why each of {@code known} cannot take the request now. */
  private String whyNotRoutable(List<WorkerState> known) {
    StringBuilder why = new StringBuilder();
    for (WorkerState worker : known) {
      why.append(why.isEmpty() ? "" : "; ").append("worker ").append(worker.workerId()).append(" on node ")
          .append(worker.nodeId()).append(": ").append(!worker.routable() ? worker.exclusion()
              : triedWorkers.contains(worker.workerId()) ? "already tried"
              : services.circuits().why(worker.workerId()) != null ? services.circuits().why(worker.workerId())
              : "not tried: gateway.maxAttempts reached");
    }
    return why.toString();
  }

  /**
   * No model of the request's alias can serve it now, and no worker said why (when one did, its failure is the
   * answer): 503, naming the alias's models (those the key may reach) and why each was passed over.
   */
  private ApiError aliasUnavailable(List<WorkerState> known) {
    String last = chain.current() + ": " + (known.isEmpty()
        ? (services.registry().departures().lastServing(chain.current()).isPresent() ? "its workers left"
            : "no worker serves it")
        : whyNotRoutable(known));
    String passed = chain.passedOver();
    response.putHeader("retry-after", known.isEmpty() ? "5" : "1");
    return new ApiError(503, "service_unavailable_error", "model_unavailable", "model",
        "No model of the alias '" + shownModel + "' (" + String.join(", ", chain.models()) + ", tried in that order) "
            + "can serve this request now (request " + requestId + "): " + (passed.isEmpty() ? last
            : passed + "; " + last) + ". Start a worker for one of them or retry shortly; GET /admin/cluster shows "
            + "the workers and the gateway's aliases.");
  }
}
