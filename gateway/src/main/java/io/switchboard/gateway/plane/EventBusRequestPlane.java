package io.switchboard.gateway.plane;

import io.switchboard.gateway.GatewayOptions;
import io.switchboard.gateway.registry.WorkerState;
import io.switchboard.protocol.Addresses;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.PlaneMessageLimit;
import io.switchboard.protocol.SameNodeWorkers;
import io.switchboard.protocol.StreamChunk;
import io.switchboard.protocol.StreamControl;
import io.switchboard.protocol.WorkerDescriptor;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;

/**
 * The event-bus request plane, gateway side. One clustered consumer per gateway receives the chunks of every
 * stream it opened (so opening a stream costs no cluster-wide registration) and hands each to its
 * {@link EventBusChunkStream}; the worker sends no more than the credits this side grants. A worker on this
 * node is called directly instead ({@link SameNodeWorkers}, {@link SameNodeChunkStream}), with the same
 * requests, answers and credits.
 */
public final class EventBusRequestPlane extends AbstractRequestPlane {

  public static final String NAME = "eventbus";

  private final Vertx vertx;
  private final GatewayOptions options;
  private final String replyAddress;
  private MessageConsumer<JsonObject> consumer;
  private LocalMap<String, SameNodeWorkers.Worker> sameNodeWorkers;
  private Context context;

  /** @param messageLimit the largest request sent to a worker; the event bus has no limit of its own */
  public EventBusRequestPlane(Vertx vertx, GatewayOptions options, String gatewayInstanceId,
                              PlaneMessageLimit messageLimit) {
    super(vertx, options, messageLimit);
    this.vertx = vertx;
    this.options = options;
    this.replyAddress = Addresses.gatewayStreams(gatewayInstanceId);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String replyAddress() {
    return replyAddress;
  }

  @Override
  public Future<Void> start() {
    context = vertx.getOrCreateContext();
    sameNodeWorkers = SameNodeWorkers.of(vertx);
    consumer = vertx.eventBus().consumer(replyAddress, message -> {
      JsonObject body = message.body();
      PlaneChunkStream stream = streams.get(body.getString(StreamControl.STREAM_ID));
      if (stream != null) {
        stream.onChunk(StreamChunk.fromJson(body));
      }
    });
    streams.start();
    return consumer.completion();
  }

  @Override
  public Future<ChunkStream> open(WorkerState worker, GenerateRequest request) {
    String address = worker.descriptor().endpoints().getString(WorkerDescriptor.ENDPOINT_EVENTBUS);
    if (address == null) {
      return Future.failedFuture(new WorkerRefusedException(GenerateError.of(GenerateError.Code.ENGINE_FAILED,
          "worker " + worker.workerId() + " publishes no event-bus endpoint", worker.workerId())));
    }
    boolean sameNode = request.gatewayNodeId() != null && request.gatewayNodeId().equals(worker.nodeId());
    SameNodeWorkers.Worker local = sameNode ? sameNodeWorkers.get(worker.workerId()) : null;
    if (local != null) {
      SameNodeChunkStream stream = new SameNodeChunkStream(local, streams, worker.workerId(), worker.nodeId(),
          request.streamId(), request.initialCredits(), streams.deadlineNanosFromNow());
      streams.put(stream);
      local.open(request, context, stream);
      return stream.acceptance();
    }
    EventBusChunkStream stream = new EventBusChunkStream(this, streams, worker.workerId(), worker.nodeId(),
        request.streamId(), request.initialCredits(), streams.deadlineNanosFromNow());
    // Filed before sending: the worker may answer with chunks before its acceptance reply is processed.
    streams.put(stream);
    return vertx.eventBus().<Object>request(address, request.toJson(),
            new DeliveryOptions().setSendTimeout(options.getAcceptTimeoutMs()))
        .<ChunkStream>map(accepted -> stream)
        .recover(failure -> {
          streams.forget(request.streamId());
          if (failure instanceof ReplyException reply && reply.failureType() == ReplyFailure.TIMEOUT) {
            // It may have accepted late: it must not generate for a request that went elsewhere.
            sendCancel(worker.workerId(), request.streamId(), "acceptance timed out; sent to another worker");
          }
          return Future.failedFuture(new WorkerRefusedException(refusal(worker, failure)));
        });
  }

  private GenerateError refusal(WorkerState worker, Throwable failure) {
    String workerId = worker.workerId();
    if (failure instanceof ReplyException reply) {
      GenerateError fromWorker = GenerateError.fromReplyException(reply);
      if (fromWorker != null) {
        return fromWorker;
      }
      return switch (reply.failureType()) {
        case NO_HANDLERS -> GenerateError.of(GenerateError.Code.WORKER_STOPPING, "worker " + workerId + " on node "
            + worker.nodeId() + " has no handler on the event bus (it stopped or its node left)", workerId);
        case TIMEOUT -> GenerateError.of(GenerateError.Code.WORKER_BUSY, "worker " + workerId + " on node "
            + worker.nodeId() + " did not accept the request within " + options.getAcceptTimeoutMs() + " ms",
            workerId);
        default -> GenerateError.of(GenerateError.Code.ENGINE_FAILED, "worker " + workerId + " failed to accept: "
            + reply.getMessage(), workerId);
      };
    }
    return GenerateError.of(GenerateError.Code.ENGINE_FAILED, "could not reach worker " + workerId + ": "
        + failure.getMessage(), workerId);
  }

  void sendCredits(String workerId, String streamId, int credits) {
    vertx.eventBus().send(Addresses.workerControl(workerId), StreamControl.credits(streamId, credits).toJson());
  }

  void sendCancel(String workerId, String streamId, String reason) {
    vertx.eventBus().send(Addresses.workerControl(workerId), StreamControl.cancel(streamId, reason).toJson());
  }

  @Override
  public Future<Void> stop() {
    streams.stop();
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }
}
