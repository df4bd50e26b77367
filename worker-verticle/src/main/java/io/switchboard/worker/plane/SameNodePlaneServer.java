package io.switchboard.worker.plane;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.SameNodeWorkers;
import io.switchboard.worker.runner.GenerationRunner;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

/**
 * The worker's side of {@link SameNodeWorkers}: a gateway on this node calls it directly, and each call is
 * handed to the worker's context, where its {@link GenerationRunner} runs. The same requests, answers and
 * credits as on the event bus ({@link EventBusPlaneServer}), without the event bus in between.
 */
public final class SameNodePlaneServer implements SameNodeWorkers.Worker {

  private final Vertx vertx;
  private final Context context;
  private final String workerId;
  private final GenerationRunner runner;
  private final OpenStreams streams;
  private volatile boolean accepting;

  /** @param context the worker's context: every call runs there */
  public SameNodePlaneServer(Vertx vertx, Context context, String workerId, GenerationRunner runner) {
    this.vertx = vertx;
    this.context = context;
    this.workerId = workerId;
    this.runner = runner;
    this.streams = new OpenStreams(runner, workerId);
  }

  /** Lists the worker for gateways on this node. */
  public void start() {
    accepting = true;
    SameNodeWorkers.register(vertx, workerId, this);
  }

  /** Unlists it: gateways on this node pick another worker; one that found it just before is refused. */
  public void stopAccepting() {
    accepting = false;
    SameNodeWorkers.unregister(vertx, workerId);
  }

  @Override
  public void open(GenerateRequest request, Context gatewayContext, SameNodeWorkers.Stream gateway) {
    context.runOnContext(v -> onOpen(request, gatewayContext, gateway));
  }

  @Override
  public void grant(String streamId, int credits) {
    context.runOnContext(v -> streams.grant(streamId, credits));
  }

  @Override
  public void cancel(String streamId, String reason) {
    context.runOnContext(v -> runner.cancel(streamId, reason));
  }

  private void onOpen(GenerateRequest request, Context gatewayContext, SameNodeWorkers.Stream gateway) {
    if (!accepting) {
      GenerateError stopping = GenerateError.of(GenerateError.Code.WORKER_STOPPING, "worker " + workerId
          + " is stopping and takes no new requests", workerId);
      gatewayContext.runOnContext(x -> gateway.refused(stopping));
      return;
    }
    // Each chunk is handed to the gateway on its own context.
    CreditedChannel channel = new CreditedChannel(Math.max(1, request.initialCredits()),
        chunk -> gatewayContext.runOnContext(v -> gateway.chunk(chunk)));
    GenerateError refused = streams.submit(request, channel);
    if (refused != null) {
      gatewayContext.runOnContext(x -> gateway.refused(refused));
      return;
    }
    gatewayContext.runOnContext(x -> gateway.accepted());
  }
}
