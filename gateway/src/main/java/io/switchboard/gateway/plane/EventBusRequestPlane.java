package io.switchboard.gateway.plane;

import io.switchboard.gateway.registry.WorkerState;
import io.switchboard.protocol.Addresses;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.PlaneMessageLimit;
import io.switchboard.protocol.PlaneWire;
import io.switchboard.protocol.PlaneWireException;
import io.switchboard.protocol.StreamChunk;
import io.switchboard.protocol.StreamControl;
import io.switchboard.protocol.TaggedChunk;
import io.switchboard.protocol.WorkerDescriptor;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The event-bus request plane, gateway side. One clustered consumer per gateway receives the chunks of every
 * stream it opened (so opening a stream costs no cluster-wide registration) and hands each to its
 * {@link PlaneChunkStream}; the worker sends no more than the credits this side grants ({@link EventBusLink}). A
 * gateway wraps it in a {@link SameNodeRequestPlane}, so a worker on its own node is called directly instead.
 *
 * <p>Between nodes, a worker that publishes the binary plane format ({@link PlaneWire#readBy}) gets its request and
 * stream controls in that format and answers in it; any other (an older worker) gets JSON as before. The consumer
 * reads both.
 */
public final class EventBusRequestPlane extends AbstractRequestPlane {

  public static final String NAME = "eventbus";
  private static final Logger log = LoggerFactory.getLogger(EventBusRequestPlane.class);

  private final Vertx vertx;
  private final PlaneTimeouts options;
  private final String replyAddress;
  private MessageConsumer<Object> consumer;

  /** @param messageLimit the largest request sent to a worker; the event bus has no limit of its own */
  public EventBusRequestPlane(Vertx vertx, PlaneTimeouts options, String gatewayInstanceId,
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
    PlaneWire.registerCodecs(vertx);
    consumer = vertx.eventBus().consumer(replyAddress, this::onChunk);
    streams.start();
    return consumer.completion();
  }

  private void onChunk(Message<Object> message) {
    TaggedChunk tagged;
    try {
      tagged = PlaneWire.body(message, TaggedChunk.class, json -> new TaggedChunk(
          json.getString(StreamControl.STREAM_ID), StreamChunk.fromJson(json)), "stream chunk");
    } catch (PlaneWireException unreadable) {
      unreadableChunk(unreadable.streamId(), unreadable.getMessage());
      return;
    } catch (RuntimeException malformed) {
      // A JSON chunk whose fields do not read still names its stream, which then ends instead of waiting.
      unreadableChunk(message.body() instanceof JsonObject json
          && json.getValue(StreamControl.STREAM_ID) instanceof String id ? id : null, String.valueOf(malformed.getMessage()));
      return;
    }
    PlaneChunkStream stream = streams.get(tagged.streamId());
    if (stream != null) {
      stream.onChunk(tagged.chunk());
    }
  }

  /** Ends the chunk's stream, when it names one still open: what the chunk held is lost, as if it never came. */
  private void unreadableChunk(String streamId, String reason) {
    log.warn("unreadable stream chunk dropped", kv("streamId", streamId), kv("reason", reason));
    PlaneChunkStream stream = streamId == null ? null : streams.get(streamId);
    if (stream != null) {
      stream.onUnreadableChunk(reason);
    }
  }

  @Override
  public Future<ChunkStream> open(WorkerState worker, GenerateRequest request) {
    String address = worker.descriptor().endpoints().getString(WorkerDescriptor.ENDPOINT_EVENTBUS);
    if (address == null) {
      return Future.failedFuture(new WorkerRefusedException(GenerateError.of(GenerateError.Code.ENGINE_FAILED,
          "worker " + worker.workerId() + " publishes no event-bus endpoint", worker.workerId())));
    }
    boolean binary = PlaneWire.readBy(worker.descriptor());
    PlaneChunkStream stream = new PlaneChunkStream(streams, new EventBusLink(this, worker.workerId(),
        request.streamId(), request.initialCredits(), binary), worker.workerId(), worker.nodeId(), request.streamId(),
        streams.deadlineNanosFromNow());
    // Filed before sending: the worker may answer with chunks before its acceptance reply is processed.
    streams.put(stream);
    return vertx.eventBus().<Object>request(address, binary ? request : request.toJson(),
            new DeliveryOptions().setSendTimeout(options.getAcceptTimeoutMs()))
        .<ChunkStream>map(accepted -> stream)
        .recover(failure -> {
          streams.forget(request.streamId());
          if (failure instanceof ReplyException reply && reply.failureType() == ReplyFailure.TIMEOUT) {
            // It may have accepted late: it must not generate for a request that went elsewhere.
            sendCancel(worker.workerId(), request.streamId(), "acceptance timed out; sent to another worker", binary);
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

  /** @param binary whether the worker reads the binary plane format (else it gets JSON) */
  void sendCredits(String workerId, String streamId, int credits, boolean binary) {
    StreamControl control = StreamControl.credits(streamId, credits);
    vertx.eventBus().send(Addresses.workerControl(workerId), binary ? control : control.toJson());
  }

  /** @param binary whether the worker reads the binary plane format (else it gets JSON) */
  void sendCancel(String workerId, String streamId, String reason, boolean binary) {
    StreamControl control = StreamControl.cancel(streamId, reason);
    vertx.eventBus().send(Addresses.workerControl(workerId), binary ? control : control.toJson());
  }

  @Override
  public Future<Void> stop() {
    streams.stop();
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }
}
