package io.switchboard.gateway.plane;

import io.switchboard.gateway.registry.WorkerState;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.SameNodeWorkers;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;

import java.util.ArrayDeque;

/**
 * The same-node path, around any plane: a worker on this node (listed in {@link SameNodeWorkers}) is called
 * directly, with the same requests, answers and credits as between nodes but no event bus, socket or codec in
 * between; every other worker is reached over the wrapped plane (the event bus or gRPC). Each side hands every call
 * over to the other's context, so nothing runs on a foreign context and the order of calls is kept.
 *
 * <p>A direct call has no send timeout of its own: the offers not yet answered are checked as often as the stream
 * sweep runs, and one past the accept timeout is refused, as an event-bus send would be.
 */
public final class SameNodeRequestPlane implements RequestPlane {

  private final Vertx vertx;
  private final PlaneTimeouts options;
  private final RequestPlane remote;
  private final StreamTable streams;
  /** Offers in the order they were made; the accept timeout is the same for all, so the oldest expires first. */
  private final ArrayDeque<SameNodeLink> unanswered = new ArrayDeque<>();
  private LocalMap<String, SameNodeWorkers.Worker> workers;
  private Context context;
  private long acceptCheck = -1;

  /** @param remote the plane for workers on other nodes (and for those on this node that are not listed) */
  public SameNodeRequestPlane(Vertx vertx, PlaneTimeouts options, RequestPlane remote) {
    this.vertx = vertx;
    this.options = options;
    this.remote = remote;
    this.streams = new StreamTable(vertx, options);
  }

  /** The plane workers on other nodes are reached on. */
  public RequestPlane remote() {
    return remote;
  }

  @Override
  public String name() {
    return remote.name();
  }

  @Override
  public String replyAddress() {
    return remote.replyAddress();
  }

  @Override
  public Future<Void> start() {
    context = vertx.getOrCreateContext();
    workers = SameNodeWorkers.of(vertx);
    streams.start();
    acceptCheck = vertx.setPeriodic(StreamTable.SWEEP_INTERVAL_MS, id -> refuseSilentWorkers());
    return remote.start();
  }

  @Override
  public Future<ChunkStream> open(WorkerState worker, GenerateRequest request) {
    SameNodeWorkers.Worker local = request.gatewayNodeId() != null && request.gatewayNodeId().equals(worker.nodeId())
        ? workers.get(worker.workerId()) : null;
    if (local == null) {
      return remote.open(worker, request);
    }
    SameNodeLink link = new SameNodeLink(local, streams, worker.workerId(), request.streamId(),
        request.initialCredits());
    PlaneChunkStream stream = new PlaneChunkStream(streams, link, worker.workerId(), worker.nodeId(),
        request.streamId(), streams.deadlineNanosFromNow());
    link.attach(stream);
    streams.put(stream);
    unanswered.addLast(link);
    local.open(request, context, link);
    return link.acceptance();
  }

  private void refuseSilentWorkers() {
    long now = System.nanoTime();
    SameNodeLink oldest;
    while ((oldest = unanswered.peekFirst()) != null
        && (oldest.answered() || oldest.refusedForSilence(now, options.getAcceptTimeoutMs()))) {
      unanswered.pollFirst();
    }
  }

  @Override
  public GenerateError tooLarge(GenerateRequest request, long rawBodyBytes) {
    // The same limit for a worker on this node: which worker is chosen must not change the client's answer.
    return remote.tooLarge(request, rawBodyBytes);
  }

  @Override
  public void workerGone(String workerId, String reason) {
    streams.workerGone(workerId, reason);
    remote.workerGone(workerId, reason);
  }

  @Override
  public void nodeGone(String nodeId, String reason) {
    streams.nodeGone(nodeId, reason);
    remote.nodeGone(nodeId, reason);
  }

  @Override
  public int openStreams() {
    return streams.size() + remote.openStreams();
  }

  @Override
  public Future<Void> stop() {
    vertx.cancelTimer(acceptCheck);
    streams.stop();
    return remote.stop();
  }
}
