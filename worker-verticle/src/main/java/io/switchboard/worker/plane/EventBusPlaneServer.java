package io.switchboard.worker.plane;

import io.switchboard.protocol.Addresses;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.PlaneWire;
import io.switchboard.protocol.PlaneWireException;
import io.switchboard.protocol.StreamControl;
import io.switchboard.protocol.TaggedChunk;
import io.switchboard.worker.runner.GenerationRunner;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The event-bus request plane, worker side: takes generate requests and stream-control messages addressed to
 * one worker and hands them to its {@link GenerationRunner}. Knows the wire formats; knows nothing of engines.
 * Reads both JSON (what older gateways send) and the binary format ({@link PlaneWire}, what gateways send to a worker
 * publishing it), and answers each request in the format it came in, so a gateway only ever reads what it sent.
 */
public final class EventBusPlaneServer {

  private static final Logger log = LoggerFactory.getLogger(EventBusPlaneServer.class);

  private final Vertx vertx;
  private final String workerId;
  private final GenerationRunner runner;
  private final OpenStreams streams;
  private MessageConsumer<Object> generateConsumer;
  private MessageConsumer<Object> controlConsumer;

  public EventBusPlaneServer(Vertx vertx, String workerId, GenerationRunner runner) {
    this.vertx = vertx;
    this.workerId = workerId;
    this.runner = runner;
    this.streams = new OpenStreams(runner, workerId);
  }

  /** Registers the worker's addresses cluster-wide; completes once every node can reach them. */
  public Future<Void> start() {
    PlaneWire.registerCodecs(vertx);
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

  private void onGenerate(Message<Object> message) {
    GenerateRequest request;
    boolean binary;
    try {
      request = PlaneWire.body(message, GenerateRequest.class, GenerateRequest::fromJson, "generate request");
      binary = message.body() instanceof GenerateRequest;
    } catch (PlaneWireException unreadable) {
      log.warn("unreadable generate request refused", kv("workerId", workerId),
          kv("streamId", unreadable.streamId()), kv("reason", unreadable.getMessage()));
      message.reply(GenerateError.of(GenerateError.Code.INVALID_REQUEST,
          "unreadable generate request: " + unreadable.getMessage(), workerId).toReplyException());
      return;
    } catch (RuntimeException malformed) {
      log.warn("malformed generate request refused", kv("workerId", workerId), kv("reason", malformed.getMessage()));
      message.reply(GenerateError.of(GenerateError.Code.INVALID_REQUEST,
          "malformed generate request: " + malformed.getMessage(), workerId).toReplyException());
      return;
    }
    EventBus eventBus = vertx.eventBus();
    String replyAddress = request.replyAddress();
    String streamId = request.streamId();
    // Each chunk in the format the request came in: binary to a gateway that sent the binary format, JSON to an
    // older one.
    CreditedChannel channel = new CreditedChannel(Math.max(1, request.initialCredits()), binary
        ? chunk -> eventBus.send(replyAddress, new TaggedChunk(streamId, chunk))
        : chunk -> eventBus.send(replyAddress, chunk.toJson(streamId)));
    GenerateError refused = streams.submit(request, channel);
    if (refused != null) {
      message.fail(refused.code().wireCode(), refused.toJson().encode());
      return;
    }
    // A gateway reads nothing of the acceptance but that it came; one that sent the binary format gets the worker's
    // id as a plain string (no JSON), an older one the JSON it knows.
    message.reply(binary ? workerId : new JsonObject().put("accepted", true).put("workerId", workerId));
  }

  private void onControl(Message<Object> message) {
    StreamControl control;
    try {
      control = PlaneWire.body(message, StreamControl.class, StreamControl::fromJson, "stream control message");
    } catch (PlaneWireException unreadable) {
      log.warn("unreadable stream control message dropped", kv("workerId", workerId),
          kv("streamId", unreadable.streamId()), kv("reason", unreadable.getMessage()));
      return;
    } catch (RuntimeException malformed) {
      log.warn("malformed stream control message dropped", kv("workerId", workerId),
          kv("reason", malformed.getMessage()));
      return;
    }
    if (control.streamId() == null) {
      return;
    }
    if (control.cancel()) {
      runner.cancel(control.streamId(), control.reason() == null ? "cancelled by the gateway" : control.reason());
      return;
    }
    streams.grant(control.streamId(), control.credits());
  }
}
