package io.switchboard.worker.plane;

import io.switchboard.protocol.Addresses;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.StreamControl;
import io.switchboard.worker.GenerationRunner;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The event-bus request plane, worker side: takes generate requests and stream-control messages addressed to
 * one worker and hands them to its {@link GenerationRunner}. Knows the wire format; knows nothing of engines.
 */
public final class EventBusPlaneServer {

  private static final Logger log = LoggerFactory.getLogger(EventBusPlaneServer.class);

  private final Vertx vertx;
  private final String workerId;
  private final GenerationRunner runner;
  private final OpenStreams<EventBusChunkSender> streams;
  private MessageConsumer<JsonObject> generateConsumer;
  private MessageConsumer<JsonObject> controlConsumer;

  public EventBusPlaneServer(Vertx vertx, String workerId, GenerationRunner runner) {
    this.vertx = vertx;
    this.workerId = workerId;
    this.runner = runner;
    this.streams = new OpenStreams<>(runner, workerId);
  }

  /** Registers the worker's addresses cluster-wide; completes once every node can reach them. */
  public Future<Void> start() {
    generateConsumer = vertx.eventBus().consumer(Addresses.workerGenerate(workerId), this::onGenerate);
    controlConsumer = vertx.eventBus().consumer(Addresses.workerControl(workerId), this::onControl);
    return Future.all(generateConsumer.completion(), controlConsumer.completion()).mapEmpty();
  }

  /** Unregisters the generate address: new requests get "no handlers" and the gateway picks another worker. */
  public Future<Void> stopAccepting() {
    return generateConsumer == null ? Future.succeededFuture() : generateConsumer.unregister();
  }

  public Future<Void> stop() {
    return Future.join(stopAccepting(),
        controlConsumer == null ? Future.succeededFuture() : controlConsumer.unregister()).mapEmpty();
  }

  public String endpoint() {
    return Addresses.workerGenerate(workerId);
  }

  private void onGenerate(Message<JsonObject> message) {
    GenerateRequest request;
    try {
      request = GenerateRequest.fromJson(message.body());
    } catch (RuntimeException malformed) {
      log.warn("malformed generate request refused", kv("workerId", workerId), kv("reason", malformed.getMessage()));
      message.reply(GenerateError.of(GenerateError.Code.INVALID_REQUEST,
          "malformed generate request: " + malformed.getMessage(), workerId).toReplyException());
      return;
    }
    EventBusChunkSender sender = new EventBusChunkSender(vertx.eventBus(), request.replyAddress(),
        request.streamId(), Math.max(1, request.initialCredits()));
    GenerateError refused = streams.submit(request, sender);
    if (refused != null) {
      message.fail(refused.code().wireCode(), refused.toJson().encode());
      return;
    }
    message.reply(new JsonObject().put("accepted", true).put("workerId", workerId));
  }

  private void onControl(Message<JsonObject> message) {
    JsonObject body = message.body();
    String streamId = body.getString(StreamControl.STREAM_ID);
    if (streamId == null) {
      return;
    }
    if (body.getBoolean(StreamControl.CANCEL, false)) {
      runner.cancel(streamId, body.getString(StreamControl.REASON, "cancelled by the gateway"));
      return;
    }
    streams.grant(streamId, body.getInteger(StreamControl.CREDITS, 0));
  }
}
