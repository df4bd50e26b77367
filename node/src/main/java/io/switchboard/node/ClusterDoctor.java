package io.switchboard.node;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * Looks at a running cluster through one gateway, the way the seed debugging guides make a person do by hand
 * (is it up, who is in the cluster, which workers serve what and why not, do requests get through, are the
 * backends and rpc-servers healthy), and says what is wrong and what to do about it.
 */
final class ClusterDoctor {

  /** One thing found: a problem (the cluster cannot serve as it should), a warning, or fine. */
  record Finding(Severity severity, String what, String fix) {
  }

  enum Severity { OK, WARNING, PROBLEM }

  private final URI gateway;
  private final String adminKey;
  private final String apiKey;
  private final Integer expectedMembers;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
  private final List<Finding> findings = new ArrayList<>();

  ClusterDoctor(URI gateway, String adminKey, String apiKey, Integer expectedMembers) {
    this.apiKey = apiKey;
    this.gateway = gateway;
    this.adminKey = adminKey;
    this.expectedMembers = expectedMembers;
  }

  List<Finding> examine() {
    HttpResponse<String> live = get("/live");
    if (live == null) {
      return findings;
    }
    ok("the gateway at " + gateway + " answers");
    checkClock(live);
    HttpResponse<String> cluster = get("/admin/cluster");
    if (cluster == null) {
      return findings;
    }
    if (cluster.statusCode() == 401) {
      problem("the gateway's admin API needs its admin key",
          "pass --admin-key KEY or set SWITCHBOARD_GATEWAY_ADMIN_KEY (the gateway's gateway.adminKey)");
      return findings;
    }
    if (cluster.statusCode() != 200) {
      problem("GET /admin/cluster answered " + cluster.statusCode() + ": " + cluster.body(),
          "check the gateway's log for this request");
      return findings;
    }
    JsonObject view = new JsonObject(cluster.body());
    checkMembers(view);
    checkWorkers(view);
    checkRpcServers(view);
    checkPolicies(view);
    checkRequests(view);
    return findings;
  }

  private void checkClock(HttpResponse<String> response) {
    response.headers().firstValue("date").ifPresent(date -> {
      Instant theirs = ZonedDateTime.parse(date, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
      long skewMs = Math.abs(Duration.between(theirs, Instant.now()).toMillis());
      if (skewMs > 5_000) {
        warning("the gateway's clock is " + skewMs / 1000 + " s away from this machine's",
            "run NTP (chrony or systemd-timesyncd) on every node: deadlines and logs compare wall clocks");
      }
    });
  }

  private void checkMembers(JsonObject view) {
    JsonArray nodes = view.getJsonArray("nodes", new JsonArray());
    int gateways = view.getJsonArray("gateways", new JsonArray()).size();
    ok("the cluster has " + nodes.size() + " member" + (nodes.size() == 1 ? "" : "s") + " and " + gateways
        + " gateway" + (gateways == 1 ? "" : "s"));
    if (expectedMembers != null && nodes.size() < expectedMembers) {
      problem("expected " + expectedMembers + " cluster members, the gateway sees " + nodes.size(),
          "on each missing node check that it runs, that cluster.name matches, that cluster.members lists a "
              + "live member (with its port if not 5701), that cluster.host is an address the others can reach, "
              + "and that its log has no 'Address already in use' (another process on the cluster or HTTP port)");
    }
    for (Object entry : nodes) {
      JsonObject node = (JsonObject) entry;
      if (node.getString("note") != null) {
        warning("node " + node.getString("id") + ": " + node.getString("note"),
            "nothing to do if it was stopped on purpose; otherwise read that node's log for why it left");
      }
    }
  }

  private void checkWorkers(JsonObject view) {
    JsonArray workers = view.getJsonArray("workers", new JsonArray());
    for (Object entry : view.getJsonArray("departedWorkers", new JsonArray())) {
      JsonObject departed = (JsonObject) entry;
      warning("worker " + departed.getString("workerId") + " (" + String.join(", ", departed.getJsonArray("models",
              new JsonArray()).stream().map(String::valueOf).toList()) + ") on node " + departed.getString("node") + " left " + departed.getLong("agoMs", 0L) / 1000
              + " s ago: " + departed.getString("reason"),
          departed.getString("reason", "").contains("left the cluster")
              ? "its node crashed or was stopped: read that node's log (or the system's: OOM killer?) and restart it"
              : "nothing to do if it was stopped on purpose; otherwise read its node's log");
    }
    if (workers.isEmpty()) {
      problem("no worker is in the cluster, so no model can be served",
          "start a worker (java -jar switchboard.jar --roles worker, or the embedded default) with "
              + "cluster.members pointing at this cluster; a worker that left is listed above");
      return;
    }
    for (Object entry : view.getJsonArray("models", new JsonArray())) {
      JsonObject model = (JsonObject) entry;
      int routable = model.getInteger("routable", 0);
      if (routable == 0) {
        problem("model '" + model.getString("model") + "' has " + model.getInteger("workers")
            + " worker(s) and none can take requests", "see the reasons below for each of its workers");
      } else {
        ok("model '" + model.getString("model") + "': " + routable + " of " + model.getInteger("workers")
            + " workers routable");
      }
    }
    for (Object entry : workers) {
      JsonObject worker = (JsonObject) entry;
      String id = worker.getString("workerId");
      String why = worker.getString("excludedBecause");
      if (why != null) {
        problem("worker " + id + " on node " + worker.getString("node") + " is excluded: " + why, fixFor(why, id));
      }
      JsonObject health = worker.getJsonObject("engineStatus", new JsonObject()).getJsonObject("health");
      if (health != null && !health.getBoolean("healthy", true) && why == null) {
        problem("worker " + id + ": its backend is unhealthy: " + health.encode(),
            "start the backend, or fix workers[N].openai.baseUrl");
      }
      for (Object candidate : worker.getJsonObject("engineStatus", new JsonObject())
          .getJsonArray("rpcPool", new JsonArray())) {
        JsonObject rpc = (JsonObject) candidate;
        if ("rejected".equals(rpc.getString("state"))) {
          warning("worker " + id + ": rpc-server candidate " + rpc.getString("endpoint") + " rejected: "
              + rpc.getString("reason"), "if it should be in the pool, run ggml-rpc-server there from the same "
              + "llama.cpp build as llama-server (tools/build-llama-cpp), or remove it from the candidates");
        } else if ("member".equals(rpc.getString("state"))) {
          ok("worker " + id + ": rpc-server " + rpc.getString("endpoint") + " in the pool (protocol "
              + rpc.getValue("version") + ")");
        }
      }
      JsonObject circuit = worker.getJsonObject("circuit");
      if (circuit != null && "open".equals(circuit.getString("state"))) {
        warning("worker " + id + ": this gateway's circuit breaker keeps requests away: "
            + circuit.getString("why", circuit.encode()), "read the worker's log for its failures; a probe "
            + "request goes through when the open period ends");
      }
    }
  }

  private static String fixFor(String why, String workerId) {
    if (why.contains("silent") || why.contains("no load report")) {
      return "its node may be hung, overloaded or cut off: check that the node runs and that this gateway and "
          + "that node reach each other on the cluster port (cluster.host must not be 127.0.0.1 across machines)";
    }
    if (why.contains("unhealthy") || why.contains("backend")) {
      return "start the backend or correct its URL (workers[N].openai.baseUrl); the worker is routed again "
          + "after one successful health check";
    }
    if (why.contains("drained by an operator")) {
      return "POST /admin/workers/" + workerId + "/undrain when it should take requests again";
    }
    if (why.contains("draining")) {
      return "it is shutting down; nothing to do unless it should not be";
    }
    if (why.contains("rpc")) {
      return "see the rpc-servers below; tools/build-llama-cpp builds matching llama-server and ggml-rpc-server";
    }
    return "read the worker node's log for '" + workerId + "'";
  }

  private void checkRpcServers(JsonObject view) {
    for (Object entry : view.getJsonArray("rpcBackends", new JsonArray())) {
      JsonObject rpc = (JsonObject) entry;
      if ("rejected".equals(rpc.getString("state"))) {
        warning("rpc-server record " + rpc.getString("endpoint") + " (node " + rpc.getString("nodeId")
            + ") is not honoured: " + rpc.getString("reason"), "a record not announced by a cluster member at its "
            + "own address, or unsigned with cluster TLS on, came from a process that is not one of your nodes: "
            + "find it (the address) and keep it off the cluster network");
      } else {
        ok("rpc-server " + rpc.getString("endpoint") + " announced (protocol " + rpc.getValue("protocolVersion")
            + ")");
      }
    }
    for (Object entry : view.getJsonArray("rejectedRecords", new JsonArray())) {
      JsonObject record = (JsonObject) entry;
      warning("discovery record " + record.getString("name") + " (node " + record.getString("node")
          + ") is not honoured: " + record.getString("reason"), "with cluster TLS on, every node signs its records: "
          + "an unsigned one was written by a process that joined Hazelcast without the cluster's certificate");
    }
    if (view.getString("rpcBackendsError") != null) {
      warning(view.getString("rpcBackendsError"), "check the cluster's health: discovery reads failed");
    }
  }

  private void checkPolicies(JsonObject view) {
    JsonArray served = view.getJsonArray("models", new JsonArray());
    for (Object entry : view.getJsonObject("gateway", new JsonObject()).getJsonArray("modelPolicies", new JsonArray())) {
      String model = String.valueOf(entry).split("=", 2)[0].trim();
      boolean known = served.stream().map(JsonObject.class::cast).anyMatch(m -> model.equals(m.getString("model")));
      if (!known) {
        warning("gateway.modelPolicies names model '" + model + "', which no worker serves",
            "check the model's name (GET /v1/models lists the served ones) or remove the entry");
      }
    }
  }

  /** A one-token request per model with a routable worker: the request plane, worker and engine all work. */
  private void checkRequests(JsonObject view) {
    for (Object entry : view.getJsonArray("models", new JsonArray())) {
      JsonObject model = (JsonObject) entry;
      if (model.getInteger("routable", 0) == 0) {
        continue;
      }
      String name = model.getString("model");
      String body = new JsonObject().put("model", name).put("max_tokens", 1)
          .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "ping")))
          .encode();
      HttpResponse<String> answer = send(HttpRequest.newBuilder(gateway.resolve("/v1/chat/completions"))
          .header("content-type", "application/json").header("x-request-id", "doctor-" + System.nanoTime())
          .POST(HttpRequest.BodyPublishers.ofString(body)), "/v1/chat/completions");
      if (answer == null) {
        return;
      }
      if (answer.statusCode() == 200) {
        ok("a request to '" + name + "' went through (worker " + answer.headers().firstValue(
            "x-switchboard-worker").orElse("?") + ")");
      } else {
        String message = answer.body();
        try {
          message = new JsonObject(answer.body()).getJsonObject("error").getString("message");
        } catch (RuntimeException notJson) {
          // keep the raw body
        }
        problem("a request to '" + name + "' failed with " + answer.statusCode() + ": " + message,
            answer.statusCode() == 401 || answer.statusCode() == 403
                ? "the gateway has API keys: pass one allowed this model with --api-key (or SWITCHBOARD_DOCTOR_API_KEY)"
                : "the message names the worker and request id; look for that id in the worker node's log");
      }
    }
  }

  private HttpResponse<String> get(String path) {
    HttpRequest.Builder request = HttpRequest.newBuilder(gateway.resolve(path)).GET();
    return send(request, path);
  }

  private HttpResponse<String> send(HttpRequest.Builder request, String path) {
    if (adminKey != null && path.startsWith("/admin")) {
      request.header("authorization", "Bearer " + adminKey);
    }
    if (apiKey != null && path.startsWith("/v1/")) {
      request.header("authorization", "Bearer " + apiKey);
    }
    try {
      return http.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (ConnectException refused) {
      problem("nothing answers at " + gateway + " (connection refused)",
          "start the node (java -jar node/target/switchboard.jar), or pass the gateway's address with --gateway;"
              + " its log says 'gateway listening' with the port, or 'Address already in use' if the port was "
              + "taken by another process");
    } catch (HttpTimeoutException slow) {
      problem("the gateway at " + gateway + " did not answer " + path + " within 30 s",
          "the node may be overloaded or hung: take a thread dump (jstack PID) and read its log");
    } catch (IOException failed) {
      problem("cannot talk to the gateway at " + gateway + ": " + failed, "check the address and port");
    } catch (InterruptedException interrupted) {
      Thread.currentThread().interrupt();
    }
    return null;
  }

  private void ok(String what) {
    findings.add(new Finding(Severity.OK, what, null));
  }

  private void warning(String what, String fix) {
    findings.add(new Finding(Severity.WARNING, what, fix));
  }

  private void problem(String what, String fix) {
    findings.add(new Finding(Severity.PROBLEM, what, fix));
  }
}
