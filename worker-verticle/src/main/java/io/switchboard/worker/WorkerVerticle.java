package io.switchboard.worker;

import io.switchboard.protocol.Addresses;
import io.switchboard.protocol.DiscoveryTrust;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.LoadReport;
import io.switchboard.protocol.ModelCommand;
import io.switchboard.protocol.WorkerAdminCommand;
import io.switchboard.protocol.PlaneMessageLimit;
import io.switchboard.protocol.PlaneWire;
import io.switchboard.protocol.WorkerDescriptor;
import io.switchboard.worker.engine.Engine;
import io.switchboard.worker.engine.ModelControlException;
import io.switchboard.worker.plane.EventBusPlaneServer;
import io.switchboard.worker.plane.GrpcPlaneServer;
import io.switchboard.worker.plane.LocalWorker;
import io.switchboard.worker.plane.SameNodePlaneServer;
import io.switchboard.worker.runner.GenerationRunner;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * One worker: wraps one engine, serves it on the request planes (the event bus, directly to a gateway on its
 * node, and gRPC when the node runs that plane), announces it in discovery and reports its
 * load every second. Stopping drains: unpublish first, then finish (or, past the drain timeout, fail as
 * retryable) what is in flight.
 */
public class WorkerVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(WorkerVerticle.class);

  private final WorkerOptions options;
  private final String nodeId;
  private final GrpcPlaneServer grpcPlane;
  private final DiscoveryTrust trust;
  private String workerId;
  private Engine engine;
  private GenerationRunner runner;
  private EventBusPlaneServer eventBusPlane;
  private SameNodePlaneServer sameNodePlane;
  private WorkerAnnouncer announcer;
  private MessageConsumer<String> memberLeft;
  private MessageConsumer<JsonObject> admin;
  private MessageConsumer<JsonObject> modelControl;
  private long loadTimer = -1;

  /**
   * @param options   validated worker options
   * @param nodeId    the cluster node id of the node hosting this worker
   * @param grpcPlane the node's shared gRPC request-plane server, already listening; the worker serves on it
   *                  and on the event bus (null: event bus only, for tests that need no gRPC)
   * @param trust     signs this worker's record, and says which rpc-server records a llamacpp worker may use
   */
  public WorkerVerticle(WorkerOptions options, String nodeId, GrpcPlaneServer grpcPlane, DiscoveryTrust trust) {
    this.options = options;
    this.nodeId = nodeId;
    this.grpcPlane = grpcPlane;
    this.trust = trust;
  }

  /** A worker on a node that is not clustered (no signatures, no members to announce rpc-servers). */
  public WorkerVerticle(WorkerOptions options, String nodeId, GrpcPlaneServer grpcPlane) {
    this(options, nodeId, grpcPlane, DiscoveryTrust.unclustered());
  }

  /** A worker served on the event bus only, on a node that is not clustered. */
  public WorkerVerticle(WorkerOptions options, String nodeId) {
    this(options, nodeId, null, DiscoveryTrust.unclustered());
  }

  @Override
  public Future<?> start() {
    workerId = options.resolveId();
    engine = EngineFactory.create(vertx, options, workerId, trust);
    runner = new GenerationRunner(vertx, engine, options, workerId, nodeId,
        grpcPlane != null ? grpcPlane.messageLimit() : PlaneMessageLimit.ofDefault());
    eventBusPlane = new EventBusPlaneServer(vertx, workerId, runner);
    sameNodePlane = new SameNodePlaneServer(vertx, context, workerId, runner);
    JsonObject endpoints = new JsonObject().put(WorkerDescriptor.ENDPOINT_EVENTBUS, eventBusPlane.endpoint())
        .put(WorkerDescriptor.ENDPOINT_EVENTBUS_WIRE, PlaneWire.VERSION);
    if (grpcPlane != null) {
      endpoints.put(WorkerDescriptor.ENDPOINT_GRPC, grpcPlane.endpoint());
    }
    announcer = new WorkerAnnouncer(vertx, workerId, () -> new WorkerDescriptor(workerId, nodeId,
        options.announcedModel(), engine.kind(), options.getSlots(), options.getContextLength(), endpoints,
        engine.nativeDialects(), engine.catalog()), trust);
    memberLeft = vertx.eventBus().localConsumer(Addresses.MEMBER_LEFT_LOCAL,
        message -> runner.cancelForGatewayNode(message.body()));
    admin = vertx.eventBus().consumer(Addresses.workerAdmin(workerId), this::onAdminCommand);
    modelControl = vertx.eventBus().consumer(Addresses.workerModels(workerId), this::onModelCommand);
    return engine.start()
        .compose(v -> eventBusPlane.start())
        .compose(v -> {
          sameNodePlane.start();
          if (grpcPlane != null) {
            grpcPlane.register(new LocalWorker(workerId, options.announcedModel(), context, runner));
          }
          loadTimer = vertx.setPeriodic(1, options.getLoadReportIntervalMs(), id -> publishLoad());
          return announcer.publish();
        })
        .onFailure(failure -> {
          sameNodePlane.stopAccepting(); // a worker that did not start must not be offered requests
          log.error("worker failed to start", kv("workerId", workerId),
              kv("model", options.getModel()), kv("reason", String.valueOf(failure.getMessage())));
        });
  }

  /** Drain or undrain on an operator's word; the load report goes out at once so gateways see it now. */
  private void onAdminCommand(Message<JsonObject> message) {
    WorkerAdminCommand command;
    try {
      command = WorkerAdminCommand.fromJson(message.body());
    } catch (IllegalArgumentException bad) {
      message.fail(400, bad.getMessage());
      return;
    }
    if (command.action() == WorkerAdminCommand.Action.DRAIN) {
      runner.drainByOperator(command.reason() == null || command.reason().isBlank()
          ? "drained by an operator" : command.reason());
    } else {
      runner.undrainByOperator();
    }
    publishLoad();
    message.reply(new JsonObject().put("workerId", workerId).put("drained", runner.drainedByOperator())
        .put("openStreams", runner.openStreams()));
  }

  /**
   * Load or unload a model of the engine's model directory on a gateway's word; replies with the model's entry once
   * done, or fails with the typed error (its wire code, its JSON). The load report goes out at once either way.
   */
  private void onModelCommand(Message<JsonObject> message) {
    ModelCommand command;
    try {
      command = ModelCommand.fromJson(message.body());
    } catch (IllegalArgumentException bad) {
      GenerateError error = GenerateError.of(GenerateError.Code.INVALID_REQUEST, "worker " + workerId
          + " refused a model command: " + bad.getMessage(), workerId);
      message.fail(error.code().wireCode(), error.toJson().encode());
      return;
    }
    publishLoad();
    runner.controlModel(command).onComplete(done -> {
      publishLoad();
      if (done.succeeded()) {
        message.reply(done.result().toJson().put("workerId", workerId));
      } else {
        GenerateError error = ((ModelControlException) done.cause()).error();
        message.fail(error.code().wireCode(), error.toJson().encode());
      }
    });
  }

  private void publishLoad() {
    vertx.eventBus().publish(Addresses.LOAD_REPORTS, runner.loadReport().toJson());
  }

  /** Each step runs whatever the previous one did, so a failed unpublish never skips the drain. */
  @Override
  public Future<?> stop() {
    log.info("worker stopping: unpublishing, then draining", kv("workerId", workerId));
    return announcer.unpublish()
        .transform(v -> {
          sameNodePlane.stopAccepting();
          return eventBusPlane.stopAccepting();
        })
        .transform(v -> {
          Future<Void> drained = runner.drain();
          publishLoad();
          return drained;
        })
        .transform(v -> {
          vertx.cancelTimer(loadTimer);
          if (grpcPlane != null) {
            grpcPlane.unregister(workerId);
          }
          return eventBusPlane.stop();
        })
        .transform(v -> memberLeft.unregister())
        .transform(v -> admin.unregister())
        .transform(v -> modelControl.unregister())
        .transform(v -> engine.stop())
        .transform(v -> {
          announcer.close();
          log.info("worker stopped", kv("workerId", workerId));
          return Future.succeededFuture();
        });
  }

  public String workerId() {
    return workerId;
  }

  /** The worker's load now, read on its own event loop (for admin views and tests). */
  public Future<LoadReport> load() {
    Promise<LoadReport> promise = Promise.promise();
    context.runOnContext(v -> promise.complete(runner.loadReport()));
    return promise.future();
  }
}
