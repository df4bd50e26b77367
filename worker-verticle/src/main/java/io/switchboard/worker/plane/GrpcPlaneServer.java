package io.switchboard.worker.plane;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.GrpcMessages;
import io.switchboard.protocol.PlaneMessageLimit;
import io.switchboard.protocol.grpc.GenerateCall;
import io.switchboard.protocol.grpc.GenerateEvent;
import io.switchboard.protocol.grpc.HealthReply;
import io.switchboard.protocol.grpc.HealthRequest;
import io.switchboard.protocol.grpc.ModelControlCall;
import io.switchboard.protocol.grpc.ModelControlReply;
import io.switchboard.protocol.ModelCommand;
import io.switchboard.runtime.tls.PeerTls;
import io.switchboard.worker.engine.ModelControlException;
import io.switchboard.protocol.grpc.WorkerHealth;
import io.switchboard.protocol.grpc.WorkerPlaneGrpcService;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.Http2Settings;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcProtocol;
import io.vertx.grpc.server.GrpcServerOptions;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The gRPC request plane, worker side: one server per node, shared by every worker on it (several workers in
 * one process must not each open a port, and each must publish the port really bound). A call names its worker;
 * the server hands it to that worker's {@link io.switchboard.worker.runner.GenerationRunner} on the worker's own
 * context. Deployed by the launcher before the workers and undeployed after they drained.
 */
public final class GrpcPlaneServer extends VerticleBase {

  private final PeerTls peerTls;

  private static final Logger log = LoggerFactory.getLogger(GrpcPlaneServer.class);
  static final long MAX_CONCURRENT_STREAMS = 100_000;
  static final int CONNECTION_WINDOW_BYTES = 64 * 1024 * 1024;

  private final GrpcPlaneOptions options;
  private final PlaneMessageLimit messageLimit;
  private final String nodeId;
  private final Map<String, LocalWorker> workers = new ConcurrentHashMap<>();
  private volatile HttpServer server;

  /**
   * @param options resolved options: {@code host} set (the launcher defaults it to the cluster host)
   * @param nodeId  the cluster node id, for errors and logs
   */
  public GrpcPlaneServer(GrpcPlaneOptions options, String nodeId) {
    this(options, nodeId, PeerTls.NONE);
  }

  /** @param peerTls TLS with the gateways (mutual, the cluster's CA), from the cluster's settings */
  public GrpcPlaneServer(GrpcPlaneOptions options, String nodeId, PeerTls peerTls) {
    this.peerTls = peerTls;
    this.options = options;
    this.messageLimit = options.messageLimit();
    this.nodeId = nodeId;
  }

  @Override
  public Future<?> start() {
    GrpcServer grpc = GrpcServer.server(vertx, new GrpcServerOptions()
        .removeEnabledProtocol(GrpcProtocol.WEB)
        .removeEnabledProtocol(GrpcProtocol.WEB_TEXT)
        // A larger call is ended with RESOURCE_EXHAUSTED; gateways check against the same limit before sending.
        .setMaxMessageSize(options.getMaxMessageBytes()));
    grpc.callHandler(WorkerPlaneGrpcService.Generate, this::onGenerate);
    grpc.callHandler(WorkerPlaneGrpcService.Health, this::onHealth);
    grpc.callHandler(WorkerPlaneGrpcService.ControlModel, this::onControlModel);
    return vertx.createHttpServer(peerTls.applyTo(new HttpServerOptions())
            .setHost(options.getHost())
            .setPort(options.getPort())
            .setTcpNoDelay(true)
            // Every call of a gateway arrives on one connection: with HTTP/2's default 64 KiB connection window
            // a burst of calls stalls until the window is returned.
            .setHttp2ConnectionWindowSize(CONNECTION_WINDOW_BYTES)
            // Every stream of a gateway shares one connection: do not cap them at HTTP/2's usual 100.
            .setInitialSettings(new Http2Settings().setMaxConcurrentStreams(MAX_CONCURRENT_STREAMS)))
        .requestHandler(grpc)
        .listen()
        .onSuccess(listening -> {
          server = listening;
          log.info("gRPC request plane listening", kv("node", nodeId), kv("host", options.getHost()),
              kv("port", listening.actualPort()), kv("endpoint", endpoint()));
        })
        .recover(failure -> Future.failedFuture(new IllegalStateException("the gRPC request plane could not listen on "
            + options.getHost() + ":" + options.getPort() + " (" + failure.getMessage() + "); set grpc.port to a free "
            + "port, or 0 for any", failure)));
  }

  @Override
  public Future<?> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  /** {@code host:port} as workers publish it: the advertised (or bind) host and the port actually bound. */
  public String endpoint() {
    HttpServer listening = server;
    if (listening == null) {
      throw new IllegalStateException("the gRPC request plane is not listening yet");
    }
    return options.publishedHost() + ":" + listening.actualPort();
  }

  /** The largest message this node's request planes carry (grpc.maxMessageBytes). */
  public PlaneMessageLimit messageLimit() {
    return messageLimit;
  }

  /** Serves {@code worker} on this server from now on. */
  public void register(LocalWorker worker) {
    workers.put(worker.workerId(), worker);
  }

  /** Stops serving a worker; later calls naming it are refused as "worker stopping". */
  public void unregister(String workerId) {
    workers.remove(workerId);
  }

  private void onGenerate(GrpcServerRequest<GenerateCall, GenerateEvent> call) {
    Context serverContext = vertx.getOrCreateContext();
    GrpcServerResponse<GenerateCall, GenerateEvent> response = call.response();
    call.handler(message -> {
      GenerateRequest request;
      try {
        request = GrpcMessages.fromCall(message);
      } catch (IllegalArgumentException malformed) {
        log.warn("malformed generate call refused", kv("node", nodeId), kv("workerId", message.getWorkerId()),
            kv("reason", malformed.getMessage()));
        response.end(GrpcMessages.refused(GenerateError.of(GenerateError.Code.INVALID_REQUEST,
            "malformed generate call: " + malformed.getMessage(), message.getWorkerId())));
        return;
      }
      LocalWorker worker = workers.get(message.getWorkerId());
      if (worker == null) {
        response.end(GrpcMessages.refused(GenerateError.of(GenerateError.Code.WORKER_STOPPING, "worker "
            + message.getWorkerId() + " does not run on node " + nodeId + " (it stopped, or never ran here)",
            message.getWorkerId())));
        return;
      }
      GrpcCallChannel channel = new GrpcCallChannel(response, serverContext, worker.context(), messageLimit,
          worker.workerId(), () -> worker.runner().cancel(request.streamId(), "its answer is larger than the gRPC "
              + "plane carries"));
      // The gateway cancelled the call, or its connection dropped: stop generating for nobody.
      call.errorHandler(error -> abandon(worker, channel, request, "the gateway cancelled the call (" + error + ")"));
      call.exceptionHandler(failure -> abandon(worker, channel, request, "the call failed: " + failure.getMessage()));
      response.exceptionHandler(failure -> abandon(worker, channel, request, "the call failed: "
          + failure.getMessage()));
      if (call.timeout() > 0) {
        // The call's grpc-timeout (the request's deadline) binds the worker too: nobody waits past it.
        channel.deadline(vertx, call.timeout(), "the request's deadline passed on worker " + worker.workerId(),
            () -> cancel(worker, request, "the call's deadline passed"));
      }
      worker.context().runOnContext(v -> {
        GenerateError refused = worker.runner().submit(request, new ChunkSender(channel), channel::closed);
        if (refused != null) {
          log.info("generate request refused", kv("requestId", request.requestId()), kv("workerId", worker.workerId()),
              kv("code", refused.code().name()), kv("reason", refused.message()));
          channel.refused(refused);
        } else {
          channel.accepted(worker.workerId());
        }
      });
    });
  }

  private static void abandon(LocalWorker worker, GrpcCallChannel channel, GenerateRequest request, String reason) {
    channel.abandon();
    cancel(worker, request, reason);
  }

  private static void cancel(LocalWorker worker, GenerateRequest request, String reason) {
    worker.context().runOnContext(v -> worker.runner().cancel(request.streamId(), reason));
  }

  /** Load or unload a model on one worker of this node; answers once it is done, or with the typed failure. */
  private void onControlModel(GrpcServerRequest<ModelControlCall, ModelControlReply> call) {
    call.handler(message -> {
      ModelCommand command;
      try {
        command = GrpcMessages.fromModelControlCall(message);
      } catch (IllegalArgumentException malformed) {
        call.response().end(ModelControlReply.newBuilder().setFailure(GrpcMessages.toFailure(GenerateError.of(
            GenerateError.Code.INVALID_REQUEST, "malformed model command: " + malformed.getMessage(),
            message.getWorkerId()))).build());
        return;
      }
      LocalWorker worker = workers.get(message.getWorkerId());
      if (worker == null) {
        call.response().end(ModelControlReply.newBuilder().setFailure(GrpcMessages.toFailure(GenerateError.of(
            GenerateError.Code.WORKER_STOPPING, "worker " + message.getWorkerId() + " does not run on node " + nodeId
                + " (it stopped, or never ran here)", message.getWorkerId()))).build());
        return;
      }
      Context serverContext = vertx.getOrCreateContext();
      worker.context().runOnContext(v -> worker.runner().controlModel(command).onComplete(done -> {
        ModelControlReply reply = done.succeeded()
            ? ModelControlReply.newBuilder().setModel(GrpcMessages.toModelInfo(done.result())).build()
            : ModelControlReply.newBuilder().setFailure(GrpcMessages.toFailure(
                ((ModelControlException) done.cause()).error())).build();
        serverContext.runOnContext(w -> call.response().end(reply));
      }));
    });
  }

  private void onHealth(GrpcServerRequest<HealthRequest, HealthReply> call) {
    call.handler(ignored -> {
      List<Future<WorkerHealth>> states = new ArrayList<>();
      for (LocalWorker worker : workers.values()) {
        Promise<WorkerHealth> state = Promise.promise();
        worker.context().runOnContext(v -> state.complete(GrpcMessages.withCatalog(WorkerHealth.newBuilder()
            .setWorkerId(worker.workerId()).setModel(String.join(",", worker.runner().servedModels()))
            .setAccepting(worker.runner().acceptsWork()), worker.runner().catalog()).build()));
        states.add(state.future());
      }
      Future.all(states).onComplete(done -> call.response().end(HealthReply.newBuilder().setNodeId(nodeId)
          .addAllWorkers(states.stream().filter(Future::succeeded).map(Future::result).toList()).build()));
    });
  }
}
