package io.switchboard.protocol;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * The discovery record schema of a worker: what a worker publishes through Vert.x Service Discovery so any
 * gateway can route to it. The record's type is {@link #RECORD_TYPE}, its name {@link #recordName()}, its
 * location {@link #endpoints()}, and its metadata {@link #toJson()}.
 *
 * @param workerId      unique in the cluster
 * @param nodeId        cluster node id of the node hosting the worker (records of a departed node are removed
 *                      by the survivors using this field)
 * @param model         the model name clients use
 * @param engine        engine kind: mocker, openai, llamacpp
 * @param slots         how many generations run at once before requests queue
 * @param contextLength the model's context window in tokens
 * @param endpoints     request-plane endpoints, e.g. {@code {"eventbus":"switchboard.worker.X.generate",
 *                      "grpc":"127.0.0.1:40123"}} (the gRPC one is the node's shared server, the port really bound)
 * @param nativeDialects the dialects besides OpenAI chat whose requests the worker's backend serves as the client
 *                      wrote them ({@link NativeForm#RESPONSES}, {@link NativeForm#MESSAGES}); empty (and absent
 *                      from the record) for none. An openai worker that learns them after it announced itself
 *                      reports them in its load reports ({@link LoadReport#nativeDialects()}).
 * @param catalog       a worker over a model directory: every model it can serve, with file size and state at
 *                      publish time (the states now are in its load reports); {@link ModelCatalog#EMPTY} (and absent
 *                      from the record, key {@code library}) for other workers. Its {@code model} is then empty.
 */
public record WorkerDescriptor(String workerId, String nodeId, String model, String engine, int slots,
                               int contextLength, JsonObject endpoints, List<String> nativeDialects,
                               ModelCatalog catalog) {

  public static final String RECORD_TYPE = "switchboard-worker";
  public static final String ENDPOINT_EVENTBUS = "eventbus";
  public static final String ENDPOINT_GRPC = "grpc";
  /**
   * The newest event-bus message format the worker reads ({@link PlaneWire}), a number beside its event-bus address.
   * Absent from an older worker's record: it reads JSON only. Older gateways read the endpoints they know by name,
   * so the key changes nothing for them.
   */
  public static final String ENDPOINT_EVENTBUS_WIRE = "eventbusWire";

  public WorkerDescriptor {
    endpoints = endpoints == null ? new JsonObject() : endpoints;
    nativeDialects = nativeDialects == null ? List.of() : List.copyOf(nativeDialects);
    catalog = catalog == null ? ModelCatalog.EMPTY : catalog;
  }

  /** A worker without a model directory. */
  public WorkerDescriptor(String workerId, String nodeId, String model, String engine, int slots, int contextLength,
                          JsonObject endpoints, List<String> nativeDialects) {
    this(workerId, nodeId, model, engine, slots, contextLength, endpoints, nativeDialects, ModelCatalog.EMPTY);
  }

  /** A worker that serves no dialect natively. */
  public WorkerDescriptor(String workerId, String nodeId, String model, String engine, int slots, int contextLength,
                          JsonObject endpoints) {
    this(workerId, nodeId, model, engine, slots, contextLength, endpoints, List.of());
  }

  public String recordName() {
    return "worker:" + model + ":" + workerId;
  }

  /** The newest event-bus message format the worker reads: what it publishes, else JSON ({@link PlaneWire#JSON_VERSION}). */
  public int eventBusWireVersion() {
    return endpoints.getValue(ENDPOINT_EVENTBUS_WIRE) instanceof Number version ? version.intValue()
        : PlaneWire.JSON_VERSION;
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("workerId", workerId)
        .put("nodeId", nodeId)
        .put("model", model)
        .put("engine", engine)
        .put("slots", slots)
        .put("contextLength", contextLength)
        .put("endpoints", endpoints);
    if (!nativeDialects.isEmpty()) {
      json.put("nativeDialects", new JsonArray(nativeDialects)); // absent: a record older gateways know as it was
    }
    if (!catalog.isEmpty()) {
      json.put(ModelCatalog.KEY, catalog.toJson());
    }
    return json;
  }

  public static WorkerDescriptor fromJson(JsonObject json) {
    return new WorkerDescriptor(
        json.getString("workerId"),
        json.getString("nodeId"),
        json.getString("model"),
        json.getString("engine"),
        json.getInteger("slots", 1),
        json.getInteger("contextLength", 0),
        json.getJsonObject("endpoints"),
        strings(json.getJsonArray("nativeDialects")),
        ModelCatalog.fromJson(json.getValue(ModelCatalog.KEY)));
  }

  static List<String> strings(JsonArray array) {
    return array == null ? List.of() : array.stream().map(String::valueOf).toList();
  }
}
