package io.switchboard.gateway.plane;

import io.switchboard.protocol.GenerateError;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The open streams of one plane, and the guards every plane needs alike: a sweep that ends streams past the
 * request deadline or idle past the stream idle timeout, and cutting every stream of a worker or node that is
 * gone. A stream its client holds back is not idle (the worker waits for credits or window, it is not silent):
 * how long a client may do that is the exchange's client-stall timeout, charged to the client. Used only on the
 * gateway verticle's event loop.
 */
final class StreamTable {

  private static final Logger log = LoggerFactory.getLogger(StreamTable.class);
  static final long SWEEP_INTERVAL_MS = 500;

  private final Vertx vertx;
  private final PlaneTimeouts options;
  private final Map<String, PlaneChunkStream> streams = new HashMap<>();
  private long sweepTimer = -1;

  StreamTable(Vertx vertx, PlaneTimeouts options) {
    this.vertx = vertx;
    this.options = options;
  }

  void start() {
    sweepTimer = vertx.setPeriodic(SWEEP_INTERVAL_MS, id -> sweep());
  }

  void stop() {
    vertx.cancelTimer(sweepTimer);
  }

  void put(PlaneChunkStream stream) {
    streams.put(stream.streamId(), stream);
  }

  PlaneChunkStream get(String streamId) {
    return streams.get(streamId);
  }

  void forget(String streamId) {
    streams.remove(streamId);
  }

  int size() {
    return streams.size();
  }

  long deadlineNanosFromNow() {
    return System.nanoTime() + options.getRequestTimeoutMs() * 1_000_000;
  }

  void workerGone(String workerId, String reason) {
    cut(stream -> stream.workerId().equals(workerId), reason);
  }

  void nodeGone(String nodeId, String reason) {
    cut(stream -> nodeId.equals(stream.nodeId()), reason);
  }

  private void cut(Predicate<PlaneChunkStream> affected, String reason) {
    for (PlaneChunkStream stream : new ArrayList<>(streams.values())) {
      if (affected.test(stream)) {
        log.warn("failing stream: its worker is gone", kv("workerId", stream.workerId()),
            kv("node", stream.nodeId()), kv("streamId", stream.streamId()), kv("reason", reason));
        stream.failLocally(GenerateError.of(GenerateError.Code.ENGINE_FAILED, "worker " + stream.workerId()
            + " on node " + stream.nodeId() + " is gone (" + reason + "); the stream was cut", stream.workerId()));
        // Best effort: a worker that is only silent (hung, partitioned) must not go on generating for nobody.
        stream.stopWorker("the gateway considers this worker gone: " + reason);
      }
    }
  }

  private void sweep() {
    long now = System.nanoTime();
    long idleLimitNanos = options.getStreamIdleTimeoutMs() * 1_000_000;
    for (PlaneChunkStream stream : new ArrayList<>(streams.values())) {
      if (now - stream.deadlineNanos > 0) {
        stream.failLocally(GenerateError.of(GenerateError.Code.DEADLINE_EXCEEDED, "the request took longer than "
            + options.getRequestTimeoutMs() + " ms (gateway.requestTimeoutMs)", stream.workerId()));
        stream.stopWorker("request timeout");
      } else if (!stream.heldBack() && now - stream.lastMessageNanos > idleLimitNanos) {
        stream.failLocally(GenerateError.of(GenerateError.Code.ENGINE_FAILED, "worker " + stream.workerId()
            + " sent nothing for " + options.getStreamIdleTimeoutMs() + " ms (gateway.streamIdleTimeoutMs)",
            stream.workerId()));
        stream.stopWorker("stream idle timeout");
      }
    }
  }
}
