package io.switchboard.protocol;

import io.vertx.core.json.JsonObject;

/**
 * An operator's command to one worker, sent to {@link Addresses#workerAdmin(String)}.
 *
 * @param action drain (finish streams, take no new requests, stay up) or undrain (take requests again)
 * @param reason what the worker reports while drained, so every gateway can say why it does not route there
 */
public record WorkerAdminCommand(Action action, String reason) {

  public enum Action { DRAIN, UNDRAIN }

  public JsonObject toJson() {
    return new JsonObject().put("action", action.name().toLowerCase()).put("reason", reason);
  }

  /** @throws IllegalArgumentException when the action is missing or unknown */
  public static WorkerAdminCommand fromJson(JsonObject json) {
    String action = json.getString("action");
    if (action == null) {
      throw new IllegalArgumentException("no action: expected drain or undrain");
    }
    try {
      return new WorkerAdminCommand(Action.valueOf(action.toUpperCase()), json.getString("reason"));
    } catch (IllegalArgumentException unknown) {
      throw new IllegalArgumentException("unknown action '" + action + "': expected drain or undrain");
    }
  }
}
