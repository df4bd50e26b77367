package io.switchboard.gateway.cluster;

import io.switchboard.gateway.exchange.GatewayServices;
import io.switchboard.gateway.security.ApiKey;
import io.switchboard.gateway.security.ApiKeyAuth;
import io.switchboard.gateway.models.ModelAliases;
import io.switchboard.gateway.registry.GatewayDirectory;
import io.switchboard.gateway.registry.RpcBackendDirectory;
import io.switchboard.gateway.registry.WorkerState;
import io.switchboard.protocol.GatewayReport;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** The read-only views of the cluster: {@code /v1/models}, {@code /health}, {@code /live}, {@code /admin/cluster}. */
public final class ClusterHandlers {

  private final GatewayServices services;
  private final ClusterView cluster;
  private final GatewayDirectory directory;
  private final RpcBackendDirectory rpcBackends;
  private final Supplier<JsonObject> safeguards;
  private final BooleanSupplier apiKeysSet;

  /**
   * @param safeguards where this gateway's keys, bounds and rate limiter stand, shown under "gateway"
   * @param apiKeysSet whether the gateway has API keys now: then /health, which needs none, names no model
   */
  public ClusterHandlers(GatewayServices services, ClusterView cluster, GatewayDirectory directory,
                         RpcBackendDirectory rpcBackends, Supplier<JsonObject> safeguards, BooleanSupplier apiKeysSet) {
    this.services = services;
    this.apiKeysSet = apiKeysSet;
    this.cluster = cluster;
    this.directory = directory;
    this.rpcBackends = rpcBackends;
    this.safeguards = safeguards;
  }

  /**
   * {@code GET /v1/models}: every model some worker in the cluster serves, loaded or not, in OpenAI's list shape with
   * a {@code status} extension (loaded, loading, unloaded: a request loads it first, failed: its last load failed on
   * every worker that has it), then the gateway's aliases, each with {@code alias_of}: the models it stands for, in
   * the order tried (those the key may reach).
   */
  public void models(RoutingContext ctx) {
    JsonArray data = new JsonArray();
    ApiKey key = ApiKeyAuth.of(ctx);
    ModelAliases aliases = services.options().getModels().aliases();
    for (String model : services.registry().models()) {
      if (key != null && !key.allows(model) || aliases.isAlias(model)) {
        // A served model an alias shadows is reached by that alias: listed once, as the alias.
        continue;
      }
      data.add(new JsonObject().put("id", model).put("object", "model").put("created", 0)
          .put("owned_by", "switchboard")
          .put("status", services.placement().status(model, services.registry().workersOf(model))));
    }
    for (String alias : aliases.names()) {
      List<String> reachable = aliases.allowedTargets(alias, key);
      if (reachable.isEmpty()) {
        continue;
      }
      data.add(new JsonObject().put("id", alias).put("object", "model").put("created", 0)
          .put("owned_by", "switchboard").put("alias_of", new JsonArray(reachable)));
    }
    json(ctx, 200, new JsonObject().put("object", "list").put("data", data));
  }

  /**
   * {@code GET /health}: 200 only when this gateway can serve some model now; otherwise 503 and why. It needs no
   * key (load balancers call it), so with API keys set it says only the counts: which models and workers there are
   * is for keys that may see them (/v1/models) and for the operator (/admin/cluster).
   */
  public void health(RoutingContext ctx) {
    boolean closed = apiKeysSet.getAsBoolean();
    List<WorkerState> workers = services.registry().allWorkers();
    Map<String, Integer> routableByModel = new TreeMap<>();
    for (WorkerState worker : workers) {
      for (String model : worker.models()) {
        routableByModel.merge(model, worker.routable() ? 1 : 0, Integer::sum);
      }
    }
    long routable = workers.stream().filter(WorkerState::routable).count();
    JsonObject body = new JsonObject()
        .put("node", cluster.localNodeId())
        .put("workers", new JsonObject().put("known", workers.size()).put("routable", routable));
    if (!closed) {
      body.put("models", new JsonObject(new TreeMap<>(routableByModel)));
    }
    if (routable > 0) {
      json(ctx, 200, body.put("status", "ok"));
      return;
    }
    String reason = workers.isEmpty()
        ? "no worker has joined the cluster: start one (java -jar switchboard.jar --roles worker) or check that "
            + "workers list this node in cluster.members"
        : closed ? "none of the " + workers.size() + " known workers can take requests; GET /admin/cluster (with the "
            + "admin key) says why for each"
        : "none of the " + workers.size() + " known workers can take requests: " + workers.stream()
            .map(w -> w.workerId() + " (" + w.exclusion() + ")").reduce((a, b) -> a + "; " + b).orElse("");
    json(ctx, 503, body.put("status", "unavailable").put("reason", reason));
  }

  /** {@code GET /live}: the process answers. */
  public void live(RoutingContext ctx) {
    json(ctx, 200, new JsonObject().put("status", "alive"));
  }

  /**
   * {@code GET /admin/cluster}: nodes, gateways (each with its request plane), workers (with load and why any is
   * excluded), models, this gateway, the rpc-servers the rpc-agents announce (each {@code "state": "announced"},
   * or {@code "rejected"} with the reason its record is not honoured), and the worker records refused.
   */
  public void admin(RoutingContext ctx) {
    JsonObject body = clusterView();
    rpcBackends.backends()
        .onSuccess(listing -> {
          JsonArray list = new JsonArray();
          listing.backends().forEach(announced -> {
            JsonObject entry = announced.backend().toJson().put("endpoint", announced.backend().endpoint())
                .put("state", announced.refusal() == null ? "announced" : "rejected");
            if (announced.refusal() != null) {
              entry.put("reason", announced.refusal());
            }
            list.add(entry);
          });
          if (listing.refusedNotListed() > 0) {
            body.put("rpcBackendsRejectedNotListed", listing.refusedNotListed());
          }
          json(ctx, 200, body.put("rpcBackends", list));
        })
        .onFailure(failure -> json(ctx, 200, body.put("rpcBackends", new JsonArray())
            .put("rpcBackendsError", "could not read the rpc-server records: " + failure.getMessage())));
  }

  /** What /admin/cluster shows but the rpc-servers (which take a discovery read): also the dashboard's view. */
  public JsonObject clusterView() {
    List<WorkerState> workers = services.registry().allWorkers();
    Map<String, JsonObject> nodes = new TreeMap<>();
    for (String member : cluster.memberIds()) {
      nodes.put(member, new JsonObject().put("id", member).put("workers", 0)
          .put("self", member.equals(cluster.localNodeId())));
    }
    Map<String, JsonObject> models = new TreeMap<>();
    JsonArray workerList = new JsonArray();
    for (WorkerState worker : workers) {
      workerList.add(worker.toJson().put("circuit", services.circuits().status(worker.workerId())));
      nodes.computeIfAbsent(worker.nodeId(), id -> new JsonObject().put("id", id).put("workers", 0)
          .put("self", false).put("note", "not a cluster member any more; its records are being removed"));
      JsonObject node = nodes.get(worker.nodeId());
      node.put("workers", node.getInteger("workers") + 1);
      for (String served : worker.models()) {
        JsonObject model = models.computeIfAbsent(served, m -> new JsonObject().put("model", m)
            .put("workers", 0).put("routable", 0).put("embeddings", false)
            .put("routingPolicy", services.router().policyName(m))
            .put("status", services.placement().status(m, services.registry().workersOf(m))));
        model.put("workers", model.getInteger("workers") + 1);
        if (worker.routable()) {
          model.put("routable", model.getInteger("routable") + 1);
        }
        if (worker.servesEmbeddings(served)) {
          model.put("embeddings", true);
        }
      }
    }
    JsonArray gateways = new JsonArray();
    List<GatewayReport> reports = directory.gateways();
    for (GatewayReport report : reports) {
      JsonObject entry = report.toJson();
      entry.remove("sentAtMs");
      // The directory lists this gateway first.
      gateways.add(entry.put("self", report == reports.get(0)));
      nodes.computeIfPresent(report.nodeId(), (id, node) -> node.put("gateways",
          node.getInteger("gateways", 0) + 1));
    }
    return new JsonObject()
        .put("node", cluster.localNodeId())
        .put("gateways", gateways)
        .put("gateway", new JsonObject()
            .put("requestPlane", services.plane().name())
            .put("routingPolicy", services.options().getRoutingPolicy())
            .put("modelPolicies", new JsonArray(services.options().getModelPolicies()))
            .put("aliasContextFallback", services.options().getModels().isContextFallback())
            .put("openStreams", services.plane().openStreams())
            .mergeIn(safeguards.get()))
        .put("nodes", new JsonArray(List.copyOf(nodes.values())))
        .put("workers", workerList)
        .put("models", new JsonArray(List.copyOf(models.values())))
        .put("aliases", aliasesView(models))
        .put("placement", services.placement().toJson(services.admission()::held))
        .put("departedWorkers", services.registry().departures().toJson())
        .put("rejectedRecords", services.registry().refusedRecords().toJson());
  }

  /**
   * Each alias with its models in order, how many workers of each there are and how many are routable, the model a
   * request for it would go to now (the first with a routable worker; null when none has one), and whether a worker
   * serves a model under the alias's own name (which the alias shadows).
   */
  private JsonArray aliasesView(Map<String, JsonObject> served) {
    ModelAliases aliases = services.options().getModels().aliases();
    JsonArray list = new JsonArray();
    for (String alias : aliases.names()) {
      JsonArray targets = new JsonArray();
      String first = null;
      for (String model : aliases.targetsOf(alias)) {
        JsonObject known = served.get(model);
        int routable = known == null ? 0 : known.getInteger("routable");
        targets.add(new JsonObject().put("model", model).put("workers", known == null ? 0 : known.getInteger("workers"))
            .put("routable", routable));
        if (first == null && routable > 0) {
          first = model;
        }
      }
      list.add(new JsonObject().put("alias", alias).put("models", targets).put("servesNow", first)
          .put("shadowsServedModel", served.containsKey(alias)));
    }
    return list;
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("content-type", "application/json").end(body.toBuffer());
  }
}
