package io.switchboard.gateway.admin;

import io.switchboard.gateway.exchange.GatewayServices;
import io.switchboard.gateway.http.ApiError;
import io.switchboard.gateway.http.ClientText;
import io.switchboard.gateway.http.ErrorResponder;
import io.switchboard.gateway.registry.WorkerState;
import io.switchboard.protocol.Addresses;
import io.switchboard.protocol.WorkerAdminCommand;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The operator's actions and in-flight view: {@code GET /admin/requests} (what this gateway serves now) and
 * {@code POST /admin/workers/:workerId/drain|undrain} (a worker finishes its streams and takes no new requests,
 * cluster-wide, until undrained; it stays up).
 */
public final class AdminHandlers {

  private static final Logger log = LoggerFactory.getLogger(AdminHandlers.class);
  private static final long COMMAND_TIMEOUT_MS = 5000;

  private final GatewayServices services;
  private final io.vertx.core.Vertx vertx;

  public AdminHandlers(io.vertx.core.Vertx vertx, GatewayServices services) {
    this.vertx = vertx;
    this.services = services;
  }

  /** {@code GET /admin/requests[?model=M]}: this gateway's open requests, oldest first. */
  public void requests(RoutingContext ctx) {
    String model = ctx.request().getParam("model");
    var requests = services.inFlight().snapshot(model);
    ctx.response().putHeader("content-type", "application/json").end(new JsonObject()
        .put("node", services.nodeId())
        .put("count", requests.size())
        .put("requests", requests)
        .put("note", "requests served by this gateway only; GET /admin/cluster lists every gateway")
        .toBuffer());
  }

  public void drain(RoutingContext ctx) {
    command(ctx, WorkerAdminCommand.Action.DRAIN);
  }

  public void undrain(RoutingContext ctx) {
    command(ctx, WorkerAdminCommand.Action.UNDRAIN);
  }

  private void command(RoutingContext ctx, WorkerAdminCommand.Action action) {
    String workerId = ctx.pathParam("workerId");
    List<WorkerState> workers = services.registry().allWorkers();
    WorkerState worker = workers.stream().filter(w -> w.workerId().equals(workerId)).findFirst().orElse(null);
    if (worker == null) {
      ErrorResponder.send(ctx, new ApiError(404, "invalid_request_error", "worker_not_found", "workerId",
          "No worker '" + ClientText.shown(workerId) + "' in the cluster. Known workers: " + (workers.isEmpty() ? "none"
              : String.join(", ", workers.stream().map(WorkerState::workerId).toList()))
              + ". GET /admin/cluster lists them."));
      return;
    }
    String reason = "drained by an operator through gateway " + services.nodeId() + " at "
        + java.time.Instant.now() + " (POST /admin/workers/" + workerId + "/undrain takes it back)";
    WorkerAdminCommand command = new WorkerAdminCommand(action, reason);
    vertx.eventBus().<JsonObject>request(Addresses.workerAdmin(workerId), command.toJson(),
            new DeliveryOptions().setSendTimeout(COMMAND_TIMEOUT_MS))
        .onSuccess(reply -> {
          JsonObject state = reply.body();
          log.info(action == WorkerAdminCommand.Action.DRAIN ? "worker drained by an operator"
                  : "worker undrained by an operator", kv("workerId", workerId), kv("node", worker.nodeId()),
              kv("openStreams", state.getInteger("openStreams")));
          state.put("message", action == WorkerAdminCommand.Action.DRAIN
              ? "Worker " + workerId + " takes no new requests from any gateway; its " + state.getInteger(
                  "openStreams") + " open streams finish. POST /admin/workers/" + workerId + "/undrain takes it back."
              : "Worker " + workerId + " takes requests again.");
          ctx.response().putHeader("content-type", "application/json").end(state.toBuffer());
        })
        .onFailure(failure -> {
          boolean timeout = failure instanceof ReplyException reply && reply.failureType() == ReplyFailure.TIMEOUT;
          ErrorResponder.send(ctx, new ApiError(timeout ? 504 : 502, "upstream_error", "worker_unreachable",
              "workerId", "Worker " + workerId + " on node " + worker.nodeId() + " did not take the "
                  + action.name().toLowerCase() + " command: " + (timeout ? "no answer within "
                  + COMMAND_TIMEOUT_MS + " ms" : failure.getMessage()) + ". GET /admin/cluster shows whether it "
                  + "is still there."));
        });
  }
}
