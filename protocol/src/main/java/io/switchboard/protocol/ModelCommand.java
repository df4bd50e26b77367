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
 */
public record ModelCommand(Action action, String model) {

  public enum Action { LOAD, UNLOAD }

  public JsonObject toJson() {
    return new JsonObject().put("action", action.name().toLowerCase()).put("model", model);
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
    return new ModelCommand(parsed, model);
  }
}
