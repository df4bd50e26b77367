package io.switchboard.gateway.registry;

import io.switchboard.protocol.LoadReport;
import io.switchboard.protocol.WorkerDescriptor;
import io.vertx.core.json.JsonObject;

/**
 * What a gateway knows of one worker at one moment: its discovery record and its latest load report, and
 * whether it may be routed to now (and if not, why, in words an operator understands).
 *
 * @param lastReportAgeMs age of the last load report; -1 when none has arrived
 * @param exclusion       null when routable, else the reason it is not
 */
public record WorkerState(WorkerDescriptor descriptor, LoadReport load, long lastReportAgeMs, String exclusion) {

  public String workerId() {
    return descriptor.workerId();
  }

  public String nodeId() {
    return descriptor.nodeId();
  }

  public String model() {
    return descriptor.model();
  }

  public boolean routable() {
    return exclusion == null;
  }

  /** Generations running plus waiting, from the last report; 0 when none arrived. */
  public int outstanding() {
    return load == null ? 0 : load.inFlight() + load.queued();
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("workerId", descriptor.workerId())
        .put("model", descriptor.model())
        .put("node", descriptor.nodeId())
        .put("engine", descriptor.engine())
        .put("slots", descriptor.slots())
        .put("contextLength", descriptor.contextLength())
        .put("endpoints", descriptor.endpoints())
        .put("status", routable() ? "routable" : "excluded")
        .put("lastReportAgeMs", lastReportAgeMs);
    if (exclusion != null) {
      json.put("excludedBecause", exclusion);
    }
    if (load != null) {
      json.put("load", new JsonObject()
          .put("inFlight", load.inFlight())
          .put("queued", load.queued())
          .put("freeSlots", load.freeSlots())
          .put("draining", load.draining()));
      if (!load.engine().isEmpty()) {
        json.put("engineStatus", load.engine());
      }
    }
    return json;
  }
}
