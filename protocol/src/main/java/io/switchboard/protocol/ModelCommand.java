package io.switchboard.protocol;

import io.vertx.core.json.JsonObject;

/**
 * A gateway's (or an operator's) request that a worker load or unload one model of its model directory, sent to
 * {@link Addresses#workerModels(String)} on the event bus (or the gRPC plane's {@code ControlModel} call). The reply
 * comes when the model is loaded (or unloaded), or fails: on the event bus with the failure code of a
 * {@link GenerateError} and its JSON as the message, naming the model, the worker and the cause. A load can take
 * longer than the event bus's default 30 s reply timeout: send with a timeout of the worker's load timeout
 * ({@code llamacpp.startupTimeoutMs}) plus a margin.
 *
 * @param action load (idempotent: concurrent loads of one model make one load; a loaded model answers at once) or
 *               unload (refused while the model has requests in flight)
 * @param model  the model's name or one of its aliases on that worker
 * @param placement true when a gateway sends the load to place the model for a request: such a load respects the
 *               worker's back-off after a failed load of the model (it fails at once with the recorded failure and
 *               when the model will be tried again). False for an operator's command: it tries now and ends the
 *               back-off. On the wire {@code "placement": true}, absent when false.
 */
public record ModelCommand(Action action, String model, boolean placement) {

  public enum Action { LOAD, UNLOAD }

  /** An operator's command (not a gateway's placement). */
  public ModelCommand(Action action, String model) {
    this(action, model, false);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("action", action.name().toLowerCase()).put("model", model);
    if (placement) {
      json.put("placement", true);
    }
    return json;
  }

  /** @throws IllegalArgumentException when the action or the model is missing, or the action unknown */
  public static ModelCommand fromJson(JsonObject json) {
    String action = json == null ? null : json.getString("action");
    if (action == null) {
      throw new IllegalArgumentException("no action: expected load or unload");
    }
    Action parsed;
    try {
      parsed = Action.valueOf(action.toUpperCase());
    } catch (IllegalArgumentException unknown) {
      throw new IllegalArgumentException("unknown action '" + action + "': expected load or unload");
    }
    String model = json.getString("model");
    if (model == null || model.isBlank()) {
      throw new IllegalArgumentException("no model: name the model to " + action);
    }
    return new ModelCommand(parsed, model, Boolean.TRUE.equals(json.getValue("placement")));
  }
}
