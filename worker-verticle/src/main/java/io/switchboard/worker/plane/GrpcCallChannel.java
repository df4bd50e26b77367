package io.switchboard.worker.plane;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GrpcMessages;
import io.switchboard.protocol.PlaneMessageLimit;
import io.switchboard.protocol.StreamChunk;
import io.switchboard.protocol.grpc.GenerateCall;
import io.switchboard.protocol.grpc.GenerateEvent;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServerResponse;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stream to a gateway over one gRPC call. The engine writes on the worker's context; the call belongs to the shared
 * server's context, so every event is handed over there, in order. The call's HTTP/2 write queue is the
 * flow-control window: while it is full the engine waits, so a slow client stalls generation instead of
 * filling memory. Events written before the worker accepted are held back, so {@code accepted} is always first.
 * A chunk larger than the plane carries (an embeddings answer, a tool-call delta past grpc.maxMessageBytes) is not
 * sent: the stream ends with a {@link GenerateError.Code#TOO_LARGE} error instead, which the gateway reports to the
 * client without blaming this worker, and the generation is stopped.
 */
final class GrpcCallChannel implements ChunkChannel {

  /** Events handed to the server context and not yet written, past which the engine is held back. */
  static final int MAX_PENDING = 64;

  private final GrpcServerResponse<GenerateCall, GenerateEvent> response;
  private final Context serverContext;
  private final Context workerContext;
  // Worker context only: server-side actions held back until the runner's verdict.
  private List<Runnable> heldBack = new ArrayList<>();
  private Runnable drainHandler;
  // Shared by both contexts: the call's write queue is full; events handed over but not yet written.
  private volatile boolean full;
  private volatile boolean drainWanted;
  private final AtomicInteger pending = new AtomicInteger();
  // Server context only.
  private boolean ended;
  private Vertx vertx;
  private long deadlineTimer = -1;

  private final PlaneMessageLimit limit;
  private final String workerId;
  private final Runnable stopGeneration;
  // Worker context only: an answer too large for the plane ended the stream.
  private boolean overLimit;

  /**
   * @param limit          the largest event the gateway reads (grpc.maxMessageBytes)
   * @param stopGeneration stops the engine (on the worker context) when an answer was too large to send
   */
  GrpcCallChannel(GrpcServerResponse<GenerateCall, GenerateEvent> response, Context serverContext,
                  Context workerContext, PlaneMessageLimit limit, String workerId, Runnable stopGeneration) {
    this.response = response;
    this.serverContext = serverContext;
    this.workerContext = workerContext;
    this.limit = limit;
    this.workerId = workerId;
    this.stopGeneration = stopGeneration;
  }

  @Override
  public void send(StreamChunk chunk) {
    if (overLimit) {
      return;
    }
    GenerateEvent event = GrpcMessages.chunk(chunk);
    int size = event.getSerializedSize();
    if (!limit.tooLarge(size)) {
      send(event, chunk.isLast());
      return;
    }
    overLimit = true;
    send(GrpcMessages.chunk(StreamChunk.failure(chunk.seq(), GenerateError.of(GenerateError.Code.TOO_LARGE, "the "
        + "answer takes " + size + " bytes, more than the " + limit.maxBytes() + " bytes the request planes carry "
        + "(grpc.maxMessageBytes). Ask for less (fewer inputs, fewer dimensions, a shorter answer), or an operator "
        + "can raise grpc.maxMessageBytes on every node", workerId))), true);
    // Not from inside the engine's own write: its generation is stopped once that call has returned.
    workerContext.runOnContext(v -> stopGeneration.run());
  }

  /**
   * Full when the call's HTTP/2 write queue is, or when too many events wait for the server context (an engine
   * that writes faster than the server context runs must not pile them up there either).
   */
  @Override
  public boolean full() {
    return full || pending.get() >= MAX_PENDING;
  }

  @Override
  public void drainHandler(Runnable handler) {
    this.drainHandler = handler;
    drainWanted = true;
    // The server context may have caught up between the check and now; then nobody else would call back.
    if (!full()) {
      workerContext.runOnContext(v -> fireDrain());
    }
  }

  /** On the worker context, once the runner admitted the generation: "accepted", then what was held back. */
  void accepted(String workerId) {
    GenerateEvent accepted = GrpcMessages.accepted(workerId);
    List<Runnable> held = heldBack;
    heldBack = null;
    serverContext.runOnContext(v -> {
      writeOnServer(accepted, false);
      held.forEach(Runnable::run);
    });
  }

  /** On the worker context: the runner refused; the call ends with the reason and an OK status. */
  void refused(GenerateError error) {
    heldBack = null;
    serverContext.runOnContext(v -> writeOnServer(GrpcMessages.refused(error), true));
  }

  /** The runner forgot the stream (ended, failed or cancelled): a call still open is reset, not left hanging. */
  void closed() {
    onServer(() -> {
      if (!ended) {
        markEnded();
        response.cancel();
      }
    });
  }

  /**
   * On the server context: ends the call with DEADLINE_EXCEEDED after {@code timeoutMs} unless it ended before,
   * and then runs {@code onExpired} (which stops the generation).
   */
  void deadline(Vertx vertx, long timeoutMs, String message, Runnable onExpired) {
    this.vertx = vertx;
    deadlineTimer = vertx.setTimer(timeoutMs, id -> {
      deadlineTimer = -1;
      if (!ended) {
        markEnded();
        response.status(GrpcStatus.DEADLINE_EXCEEDED).statusMessage(message).end();
        onExpired.run();
      }
    });
  }

  /** On the server context: the call is over from the gateway's side (cancelled, reset, closed); write nothing more. */
  void abandon() {
    markEnded();
  }

  private void markEnded() {
    ended = true;
    if (deadlineTimer >= 0) {
      vertx.cancelTimer(deadlineTimer);
      deadlineTimer = -1;
    }
  }

  private void send(GenerateEvent event, boolean last) {
    pending.incrementAndGet();
    onServer(() -> {
      pending.decrementAndGet();
      writeOnServer(event, last);
      if (drainWanted && !full() && pending.get() <= MAX_PENDING / 2) {
        notifyWorker();
      }
    });
  }

  /** Runs {@code action} on the server context after every action handed over before it. */
  private void onServer(Runnable action) {
    if (heldBack != null) {
      heldBack.add(action);
    } else {
      serverContext.runOnContext(v -> action.run());
    }
  }

  private void writeOnServer(GenerateEvent event, boolean last) {
    if (ended) {
      return;
    }
    if (last) {
      markEnded();
      response.end(event);
      return;
    }
    response.write(event);
    if (!full && response.writeQueueFull()) {
      full = true;
      response.drainHandler(v -> {
        full = false;
        if (drainWanted && !full()) {
          notifyWorker();
        }
      });
    }
  }

  private void notifyWorker() {
    drainWanted = false;
    workerContext.runOnContext(x -> fireDrain());
  }

  private void fireDrain() {
    Runnable handler = drainHandler;
    if (handler != null) {
      drainHandler = null;
      handler.run();
    }
  }
}
