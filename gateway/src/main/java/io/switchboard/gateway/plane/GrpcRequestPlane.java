package io.switchboard.gateway.plane;

import io.switchboard.gateway.registry.WorkerState;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.GrpcMessages;
import io.switchboard.protocol.ModelCommand;
import io.switchboard.protocol.ModelEntry;
import io.switchboard.protocol.WorkerDescriptor;
import io.switchboard.protocol.grpc.GenerateCall;
import io.switchboard.protocol.grpc.GenerateEvent;
import io.switchboard.protocol.grpc.ModelControlReply;
import io.switchboard.protocol.grpc.WorkerPlaneGrpcClient;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.Http2Settings;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.SocketAddress;
import io.switchboard.protocol.PlaneMessageLimit;
import io.switchboard.runtime.tls.PeerTls;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.client.GrpcClientResponse;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.MessageSizeOverflowException;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC request plane, gateway side: direct TCP to each worker node's shared gRPC server. One HTTP/2
 * connection per worker node carries every stream to it (multiplexed); each generation is one server-streaming
 * call whose deadline is the request's, cancelled (RST_STREAM) when the client goes away, and held back by HTTP/2
 * flow control while the client reads slowly ({@link GrpcLink}). A dropped connection ends its streams at once with an
 * error. A gateway wraps it in a {@link SameNodeRequestPlane}, so a worker on its own node is called directly instead
 * of over loopback HTTP/2.
 */
public final class GrpcRequestPlane extends AbstractRequestPlane {

  public static final String NAME = "grpc";

  /** Per stream: how much a worker may send ahead of a slow client before HTTP/2 flow control stops it. */
  static final int STREAM_WINDOW_BYTES = 64 * 1024;
  /** Per connection: large, so one slow stream never holds back the others on the same connection. */
  static final int CONNECTION_WINDOW_BYTES = 64 * 1024 * 1024;

  private final Vertx vertx;
  private final PlaneTimeouts options;
  private final Map<String, SocketAddress> addresses = new HashMap<>();
  private GrpcClient client;
  private final PeerTls peerTls;

  /** @param messageLimit the largest message either way: a request checked before it is sent, an answer read */
  public GrpcRequestPlane(Vertx vertx, PlaneTimeouts options, PeerTls peerTls, PlaneMessageLimit messageLimit) {
    super(vertx, options, messageLimit);
    this.peerTls = peerTls;
    this.vertx = vertx;
    this.options = options;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Future<Void> start() {
    HttpClientOptions http = peerTls.applyTo(new HttpClientOptions())
        .setProtocolVersion(HttpVersion.HTTP_2)
        .setHttp2ClearTextUpgrade(false)
        .setTcpNoDelay(true)
        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, options.getAcceptTimeoutMs()))
        .setHttp2ConnectionWindowSize(CONNECTION_WINDOW_BYTES)
        .setInitialSettings(new Http2Settings().setInitialWindowSize(STREAM_WINDOW_BYTES));
    // The builder's transport keeps one HTTP/2 connection per worker node (PoolOptions' default for HTTP/2).
    client = GrpcClient.builder(vertx).with(http)
        .with(new GrpcClientOptions().setMaxMessageSize(messageLimit.maxBytes()))
        .build();
    streams.start();
    return Future.succeededFuture();
  }

  @Override
  public Future<ChunkStream> open(WorkerState worker, GenerateRequest request) {
    String workerId = worker.workerId();
    String endpoint = worker.descriptor().endpoints().getString(WorkerDescriptor.ENDPOINT_GRPC);
    SocketAddress address = endpoint == null ? null : address(endpoint);
    if (address == null) {
      return Future.failedFuture(new WorkerRefusedException(GenerateError.of(GenerateError.Code.ENGINE_FAILED,
          "worker " + workerId + " on node " + worker.nodeId() + " publishes no usable gRPC endpoint ("
              + endpoint + "); its node runs without the gRPC plane", workerId)));
    }
    GrpcLink link = new GrpcLink();
    PlaneChunkStream stream = new PlaneChunkStream(streams, link, workerId, worker.nodeId(), request.streamId(),
        streams.deadlineNanosFromNow());
    streams.put(stream);
    Promise<ChunkStream> accepted = Promise.promise();
    long acceptTimer = vertx.setTimer(options.getAcceptTimeoutMs(), id -> {
      if (accepted.tryFail(refused(GenerateError.of(GenerateError.Code.WORKER_BUSY, "worker " + workerId + " at "
          + endpoint + " did not accept the request within " + options.getAcceptTimeoutMs() + " ms", workerId)))) {
        streams.forget(request.streamId());
        stream.stopWorker("acceptance timed out; sent to another worker");
      }
    });
    accepted.future().onComplete(done -> vertx.cancelTimer(acceptTimer));
    GenerateCall call;
    try {
      call = GrpcMessages.toCall(workerId, request);
    } catch (RuntimeException unencodable) {
      // This side's failure, the same on every worker: not one to count against this worker or retry elsewhere.
      lost(stream, accepted, new GenerateError(GenerateError.Code.INVALID_REQUEST, "the gateway could not encode "
          + "the request for the gRPC plane: " + unencodable.getMessage(), false, null));
      return accepted.future();
    }
    client.request(address, WorkerPlaneGrpcClient.Generate)
        .compose(grpcRequest -> {
          if (accepted.future().isComplete()) {
            // Acceptance timed out while connecting: the request went elsewhere, do not send it here too.
            grpcRequest.cancel();
            return Future.failedFuture("acceptance timed out before the call was sent");
          }
          link.attach(grpcRequest);
          long remainingMs = Math.max(1, request.deadlineEpochMs() - System.currentTimeMillis());
          grpcRequest.timeout(request.deadlineEpochMs() > 0 ? remainingMs : options.getRequestTimeoutMs(),
              TimeUnit.MILLISECONDS);
          // The answer decides, not the write: a worker that refuses a call (as too large, say) ends it with a
          // status before the whole request was sent, and the write then fails.
          grpcRequest.end(call);
          return grpcRequest.response();
        })
        .onSuccess(response -> listen(response, link, stream, accepted, endpoint))
        .onFailure(failure -> lost(stream, accepted, GenerateError.of(GenerateError.Code.ENGINE_FAILED,
            "could not reach worker " + workerId + " at " + endpoint + ": " + failure.getMessage(), workerId)));
    return accepted.future();
  }

  /**
   * Sends a worker a model command with the gRPC {@code ControlModel} call (the worker's node's gRPC server), with a
   * deadline of {@code timeoutMs}. Completes with the model's entry once the worker has done it; fails with a
   * {@link WorkerRefusedException} whose error is the worker's (naming the model, the worker and the cause), or says
   * what went wrong on the way (no gRPC endpoint, unreachable, the deadline passed).
   */
  public Future<ModelEntry> controlModel(WorkerState worker, ModelCommand command, long timeoutMs) {
    String workerId = worker.workerId();
    String endpoint = worker.descriptor().endpoints().getString(WorkerDescriptor.ENDPOINT_GRPC);
    SocketAddress address = endpoint == null ? null : address(endpoint);
    if (address == null) {
      return Future.failedFuture(refused(GenerateError.of(GenerateError.Code.WORKER_STOPPING, "worker " + workerId
          + " on node " + worker.nodeId() + " publishes no usable gRPC endpoint (" + endpoint + ") to send its "
          + "model commands to; its node runs without the gRPC plane", workerId)));
    }
    String action = command.action().name().toLowerCase();
    // The deadline is sent (grpc-timeout) and kept here too: a worker that never answers is cancelled at it.
    Promise<ModelControlReply> answered = Promise.promise();
    long timer = vertx.setTimer(timeoutMs, id -> answered.tryFail(new java.util.concurrent.TimeoutException()));
    client.request(address, WorkerPlaneGrpcClient.ControlModel)
        .compose(call -> {
          answered.future().onFailure(failure -> call.cancel());
          call.timeout(timeoutMs, TimeUnit.MILLISECONDS);
          call.end(GrpcMessages.toModelControlCall(workerId, command));
          return call.response().compose(response -> response.last().recover(failure -> Future.failedFuture(
              response.status() == GrpcStatus.DEADLINE_EXCEEDED ? new java.util.concurrent.TimeoutException()
                  : failure)));
        })
        .onComplete(done -> {
          vertx.cancelTimer(timer);
          if (done.succeeded()) {
            answered.tryComplete(done.result());
          } else {
            answered.tryFail(done.cause());
          }
        });
    return answered.future()
        .recover(failure -> Future.failedFuture(refused(failure instanceof java.util.concurrent.TimeoutException
            || failure instanceof io.vertx.grpc.client.InvalidStatusException invalid
            && invalid.actualStatus() == GrpcStatus.DEADLINE_EXCEEDED
            ? GenerateError.of(GenerateError.Code.DEADLINE_EXCEEDED, "worker " + workerId + " at " + endpoint
                + " did not finish the " + action + " of model '" + command.model() + "' within " + timeoutMs + " ms",
                workerId)
            : GenerateError.of(GenerateError.Code.WORKER_STOPPING, "could not send the " + action + " of model '"
                + command.model() + "' to worker " + workerId + " at " + endpoint + ": " + failure.getMessage(),
                workerId))))
        .compose(reply -> reply.hasFailure()
            ? Future.failedFuture(refused(withWorker(GrpcMessages.fromFailure(reply.getFailure()), workerId)))
            : Future.succeededFuture(GrpcMessages.fromModelInfo(reply.getModel())));
  }

  private static GenerateError withWorker(GenerateError error, String workerId) {
    return error.workerId() == null ? GenerateError.of(error.code(), error.message(), workerId) : error;
  }

  private void listen(GrpcClientResponse<GenerateCall, GenerateEvent> response, GrpcLink link,
                      PlaneChunkStream stream, Promise<ChunkStream> accepted, String endpoint) {
    link.attach(response);
    String workerId = stream.workerId();
    response.handler(event -> {
      switch (event.getEventCase()) {
        case ACCEPTED -> accepted.tryComplete(stream);
        case REFUSED -> {
          streams.forget(stream.streamId());
          accepted.tryFail(refused(GrpcMessages.fromFailure(event.getRefused())));
        }
        case CHUNK -> stream.onChunk(GrpcMessages.fromChunk(event.getChunk()));
        default -> { }
      }
    });
    response.endHandler(v -> {
      if (!stream.isFinished()) {
        if (response.status() == GrpcStatus.RESOURCE_EXHAUSTED) {
          // The worker's node carries smaller messages than this gateway checked for: a setting, not a failure.
          lost(stream, accepted, GenerateError.of(GenerateError.Code.TOO_LARGE, "worker " + workerId + " at "
              + endpoint + " refused the request as larger than its node's gRPC plane carries" + statusOf(response)
              + "; this gateway sends up to " + messageLimit.maxBytes() + " bytes: set the same "
              + "grpc.maxMessageBytes on every node, or send a smaller request", workerId));
          return;
        }
        GenerateError.Code code = response.status() == GrpcStatus.DEADLINE_EXCEEDED
            ? GenerateError.Code.DEADLINE_EXCEEDED : GenerateError.Code.ENGINE_FAILED;
        lost(stream, accepted, GenerateError.of(code, "worker " + workerId + " at " + endpoint + " ended the call "
            + "without a final chunk" + statusOf(response), workerId));
      }
    });
    response.exceptionHandler(failure -> {
      if (failure instanceof MessageSizeOverflowException) {
        // The answer is too large for this side's limit: the same on every worker, and not this worker's failure.
        lost(stream, accepted, GenerateError.of(GenerateError.Code.TOO_LARGE, "an answer from worker " + workerId
            + " at " + endpoint + " is larger than the " + messageLimit.maxBytes() + " bytes this gateway reads "
            + "(grpc.maxMessageBytes): " + failure.getMessage() + ". Ask for a smaller answer, or raise "
            + "grpc.maxMessageBytes on every node", workerId));
        return;
      }
      lost(stream, accepted, GenerateError.of(GenerateError.Code.ENGINE_FAILED, "the call to worker " + workerId
          + " at " + endpoint + " failed: " + failure.getMessage() + statusOf(response), workerId));
    });
    response.errorHandler(error -> lost(stream, accepted, GenerateError.of(GenerateError.Code.ENGINE_FAILED,
        "the call to worker " + workerId + " at " + endpoint + " was reset (" + error + ")", workerId)));
  }

  /**
   * The call failed on this side: before acceptance it counts as a refusal (the gateway may try another worker);
   * after, the stream ends with the error. Nothing happens once the stream has ended or was refused.
   */
  private void lost(PlaneChunkStream stream, Promise<ChunkStream> accepted, GenerateError error) {
    if (accepted.tryFail(refused(error))) {
      streams.forget(stream.streamId());
      return;
    }
    if (accepted.future().succeeded()) {
      stream.failLocally(error);
    }
  }

  private static String statusOf(GrpcClientResponse<?, ?> response) {
    GrpcStatus status = response.status();
    if (status == null || status == GrpcStatus.OK) {
      return "";
    }
    String message = response.statusMessage();
    return " (grpc-status " + status.name() + (message == null ? "" : ": " + message) + ")";
  }

  private static WorkerRefusedException refused(GenerateError error) {
    return new WorkerRefusedException(error);
  }

  /** "host:port" as published by a worker, parsed once; null when malformed. */
  private SocketAddress address(String endpoint) {
    return addresses.computeIfAbsent(endpoint, GrpcRequestPlane::parse);
  }

  static SocketAddress parse(String endpoint) {
    int colon = endpoint.lastIndexOf(':');
    if (colon <= 0 || colon == endpoint.length() - 1) {
      return null;
    }
    try {
      int port = Integer.parseInt(endpoint.substring(colon + 1));
      if (port <= 0 || port > 65535) {
        return null;
      }
      String host = endpoint.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      return SocketAddress.inetSocketAddress(port, host);
    } catch (NumberFormatException notAPort) {
      return null;
    }
  }

  @Override
  public Future<Void> stop() {
    streams.stop();
    return client == null ? Future.succeededFuture() : client.close();
  }
}
