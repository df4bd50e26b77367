package io.switchboard.gateway.plane;

import io.switchboard.gateway.GatewayOptions;
import io.switchboard.gateway.registry.WorkerState;
import io.switchboard.protocol.Addresses;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.StreamChunk;
import io.switchboard.protocol.StreamControl;
import io.switchboard.protocol.WorkerDescriptor;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The event-bus request plane, gateway side. One clustered consumer per gateway receives the chunks of every
 * stream it opened (so opening a stream costs no cluster-wide registration) and hands each to its
 * {@link EventBusChunkStream}. A sweep ends streams whose worker went quiet or whose deadline passed.
 */
public final class EventBusRequestPlane implements RequestPlane {

  public static final String NAME = "eventbus";

  private static final Logger log = LoggerFactory.getLogger(EventBusRequestPlane.class);
  private static final long SWEEP_INTERVAL_MS = 500;

  private final Vertx vertx;
  private final GatewayOptions options;
  private final String replyAddress;
  private final Map<String, EventBusChunkStream> streams = new HashMap<>();
  private MessageConsumer<JsonObject> consumer;
  private long sweepTimer = -1;

  public EventBusRequestPlane(Vertx vertx, GatewayOptions options, String gatewayInstanceId) {
    this.vertx = vertx;
    this.options = options;
    this.replyAddress = Addresses.gatewayStreams(gatewayInstanceId);
  }

  @Override
  public String name() {
    return NAME;
  }

  public String replyAddress() {
    return replyAddress;
  }

  @Override
  public Future<Void> start() {
    consumer = vertx.eventBus().consumer(replyAddress, message -> {
      JsonObject body = message.body();
      EventBusChunkStream stream = streams.get(body.getString(StreamControl.STREAM_ID));
      if (stream != null) {
        stream.onChunk(StreamChunk.fromJson(body));
      }
    });
    sweepTimer = vertx.setPeriodic(SWEEP_INTERVAL_MS, id -> sweep());
    return consumer.completion();
  }

  @Override
  public Future<ChunkStream> open(WorkerState worker, GenerateRequest request) {
    String address = worker.descriptor().endpoints().getString(WorkerDescriptor.ENDPOINT_EVENTBUS);
    if (address == null) {
      return Future.failedFuture(new WorkerRefusedException(GenerateError.of(GenerateError.Code.ENGINE_FAILED,
          "worker " + worker.workerId() + " publishes no event-bus endpoint", worker.workerId())));
    }
    long deadlineNanos = System.nanoTime() + options.getRequestTimeoutMs() * 1_000_000;
    EventBusChunkStream stream = new EventBusChunkStream(this, worker.workerId(), worker.nodeId(), request.streamId(),
        request.initialCredits(), deadlineNanos);
    // Filed before sending: the worker may answer with chunks before its acceptance reply is processed.
    streams.put(request.streamId(), stream);
    DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(options.getAcceptTimeoutMs());
    return vertx.eventBus().<JsonObject>request(address, request.toJson(), delivery)
        .<ChunkStream>map(accepted -> stream)
        .recover(failure -> {
          streams.remove(request.streamId());
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

  @Override
  public void workerGone(String workerId, String reason) {
    cut(stream -> stream.workerId().equals(workerId), reason);
  }

  @Override
  public void nodeGone(String nodeId, String reason) {
    cut(stream -> nodeId.equals(stream.nodeId()), reason);
  }

  private void cut(Predicate<EventBusChunkStream> affected, String reason) {
    for (EventBusChunkStream stream : new ArrayList<>(streams.values())) {
      if (affected.test(stream)) {
        log.warn("failing stream: its worker is gone", kv("workerId", stream.workerId()),
            kv("node", stream.nodeId()), kv("streamId", stream.streamId()), kv("reason", reason));
        stream.failLocally(GenerateError.of(GenerateError.Code.ENGINE_FAILED, "worker " + stream.workerId()
            + " on node " + stream.nodeId() + " is gone (" + reason + "); the stream was cut", stream.workerId()));
        // Best effort: a worker that is only silent (hung, partitioned) must not go on generating for nobody.
        sendCancel(stream.workerId(), stream.streamId(), "the gateway considers this worker gone: " + reason);
      }
    }
  }

  @Override
  public int openStreams() {
    return streams.size();
  }

  void forget(String streamId) {
    streams.remove(streamId);
  }

  void sendCredits(String workerId, String streamId, int credits) {
    vertx.eventBus().send(Addresses.workerControl(workerId), StreamControl.credits(streamId, credits));
  }

  void sendCancel(String workerId, String streamId, String reason) {
    vertx.eventBus().send(Addresses.workerControl(workerId), StreamControl.cancel(streamId, reason));
  }

  private void sweep() {
    long now = System.nanoTime();
    long idleLimitNanos = options.getStreamIdleTimeoutMs() * 1_000_000;
    for (EventBusChunkStream stream : new ArrayList<>(streams.values())) {
      if (now - stream.deadlineNanos > 0) {
        sendCancel(stream.workerId(), stream.streamId(), "request timeout");
        stream.failLocally(GenerateError.of(GenerateError.Code.DEADLINE_EXCEEDED, "the request took longer than "
            + options.getRequestTimeoutMs() + " ms (gateway.requestTimeoutMs)", stream.workerId()));
      } else if (now - stream.lastMessageNanos > idleLimitNanos) {
        sendCancel(stream.workerId(), stream.streamId(), "stream idle timeout");
        stream.failLocally(GenerateError.of(GenerateError.Code.ENGINE_FAILED, "worker " + stream.workerId()
            + " sent nothing for " + options.getStreamIdleTimeoutMs() + " ms (gateway.streamIdleTimeoutMs)",
            stream.workerId()));
      }
    }
  }

  @Override
  public Future<Void> stop() {
    vertx.cancelTimer(sweepTimer);
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }
}
