package io.switchboard.node;

import io.switchboard.protocol.Addresses;
import io.switchboard.protocol.RpcBackendRecord;
import io.switchboard.protocol.WorkerDescriptor;
import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.FreePorts;
import io.switchboard.testsupport.LlamaCppBinaries;
import io.switchboard.testsupport.NodeProcess;
import io.switchboard.worker.llamacpp.LlamaServerTestSupport;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.servicediscovery.Record;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static io.switchboard.node.ClusterTestSupport.freshCluster;
import static io.switchboard.node.ClusterTestSupport.get;
import static io.switchboard.node.ClusterTestSupport.post;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A rogue process joins the cluster's Hazelcast (anyone who reaches a member's cluster port with the cluster's
 * name can: open-source Hazelcast has no member authentication) and announces a worker, a forged copy of a real
 * worker, an rpc-server, subscribes to a real worker's address, writes a deserialization gadget, and tries to send
 * a real worker a generate request.
 *
 * <p>With cluster TLS on (two real nodes from the jar: a gateway, and a worker node with a mocker worker, a llamacpp
 * worker and an rpc-agent), none of its records is honoured, no request is routed to it, its listeners never get a
 * byte of plaintext (so no prompt), the llamacpp worker's pool never contacts its rpc-server, its gadget is refused
 * and removed, and the real worker never accepts its request. With TLS off (one node), the test shows what it
 * can do, as docs/security.md warns. Each half prints a {@code rogue-member:} line with the attempts and outcomes.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RogueMemberIT {

  private static final Path CERTS = Path.of("target", "rogue-member-it");
  private static final String CANARY = "rogue-canary-" + UUID.randomUUID();
  private static final List<NodeProcess> nodes = new ArrayList<>();
  private static final Map<String, String> cluster = new HashMap<>();
  private static final Map<String, Object> outcomes = new LinkedHashMap<>();
  private static int attempts;
  private static int gatewayPort;
  private static int rpcPort;
  private static NodeProcess workerNode;
  private static String workerNodeId;
  private static RogueMember rogue;
  private static RecordingListener eventBusListener;
  private static RecordingListener grpcListener;
  private static RecordingListener rpcListener;

  @BeforeAll
  static void startTlsClusterAndRogue() throws Exception {
    assertThat(NodeProcess.jar()).as("run mvn package first").exists();
    Path bin = LlamaCppBinaries.directory();
    Path model = LlamaServerTestSupport.tinyModel().toAbsolutePath();
    makeCertificates();
    cluster.putAll(freshCluster("rogue"));
    cluster.put("SWITCHBOARD_CLUSTER_TLS_CERT_PATH", CERTS.resolve("node.pem").toAbsolutePath().toString());
    cluster.put("SWITCHBOARD_CLUSTER_TLS_KEY_PATH", CERTS.resolve("node.key").toAbsolutePath().toString());
    cluster.put("SWITCHBOARD_CLUSTER_TLS_CA_PATH", CERTS.resolve("ca.pem").toAbsolutePath().toString());
    gatewayPort = FreePorts.any();
    rpcPort = FreePorts.any();
    nodes.add(new NodeProcess("rogue-it-gateway", cluster, "--roles", "gateway", "--http-port",
        Integer.toString(gatewayPort)));
    Path config = CERTS.resolve("worker-node.yaml");
    Files.writeString(config, """
        node:
          roles: [worker, rpc-agent]
        rpcAgent:
          serverBin: %s
          port: %d
        workers:
          - id: real-b
            model: mock-llm
          - id: tiny-b
            engine: llamacpp
            model: tiny-llama
            llamacpp:
              serverBin: %s
              modelPath: %s
        """.formatted(bin.resolve("ggml-rpc-server"), rpcPort, bin.resolve("llama-server"), model));
    workerNode = new NodeProcess("rogue-it-worker", cluster, "--config", config.toAbsolutePath().toString());
    nodes.add(workerNode);
    Eventually.within(ofSeconds(180), "both models are served through the TLS cluster",
        () -> served(gatewayPort, "mock-llm") && served(gatewayPort, "tiny-llama"));
    Eventually.within(ofSeconds(60), "the llamacpp worker runs llama-server over the honest rpc-agent",
        () -> List.of("127.0.0.1:" + rpcPort).equals(llamaServerRpc()));
    workerNodeId = worker("real-b").getString("node");

    eventBusListener = new RecordingListener();
    grpcListener = new RecordingListener();
    rpcListener = new RecordingListener();
    rogue = RogueMember.join(cluster.get("SWITCHBOARD_CLUSTER_NAME"),
        Integer.parseInt(cluster.get("SWITCHBOARD_CLUSTER_PORT")), eventBusListener.port());
    assertThat(rogue.members()).as("the rogue joined Hazelcast: gateway, worker node, rogue").isEqualTo(3);
  }

  @AfterAll
  static void stopAll() throws Exception {
    System.out.println("rogue-member: tls=on tried " + attempts + " attacks; " + outcomes.entrySet().stream()
        .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" ")));
    if (rogue != null) {
      rogue.close();
    }
    for (NodeProcess node : nodes) {
      node.close();
    }
    for (RecordingListener listener : new RecordingListener[] {eventBusListener, grpcListener, rpcListener}) {
      if (listener != null) {
        listener.close();
      }
    }
  }

  @Test
  @Order(1)
  void itsRecordsAreNeverHonouredAndNoRequestIsRoutedToIt() throws Exception {
    // A worker of its own, a forged copy of the real worker pointing at itself, an rpc-server at its own cluster
    // address (it is a member) and one claiming the real worker node; load reports for both workers.
    rogue.publishWorker("rogue-1", rogue.nodeId, "rogue-llm", rogueEndpoints());
    rogue.publishWorker("real-b", workerNodeId, "mock-llm", rogueEndpoints());
    rogue.publishRpcServer(rogue.nodeId, "127.0.0.1", rpcListener.port());
    rogue.publishRpcServer(workerNodeId, "127.0.0.1", rpcListener.port());
    rogue.reportLoad("rogue-1", "rogue-llm");
    rogue.reportLoad("real-b", "mock-llm");
    attempts += 5;

    // Long enough for several registry resyncs (2 s) and pool checks (1 s).
    long until = System.currentTimeMillis() + 8_000;
    int served = 0;
    while (System.currentTimeMillis() < until) {
      HttpResponse<String> real = chat("mock-llm");
      assertThat(real.statusCode()).as(real.body()).isEqualTo(200);
      assertThat(real.headers().firstValue("x-switchboard-worker")).hasValue("real-b");
      HttpResponse<String> forged = chat("rogue-llm");
      assertThat(forged.statusCode()).as("the rogue's model is unknown: " + forged.body()).isEqualTo(404);
      assertThat(workers().stream().map(w -> w.getString("workerId"))).doesNotContain("rogue-1");
      assertThat(worker("real-b").getJsonObject("endpoints").getString(WorkerDescriptor.ENDPOINT_EVENTBUS))
          .isEqualTo(Addresses.workerGenerate("real-b"));
      served++;
    }
    outcomes.put("realModelServed", served + "/" + served);

    JsonObject view = adminCluster();
    List<String> rejected = view.getJsonArray("rejectedRecords").stream().map(JsonObject.class::cast)
        .map(r -> r.getString("name") + ": " + r.getString("reason")).toList();
    assertThat(rejected).anySatisfy(r -> assertThat(r).startsWith("worker:rogue-llm:rogue-1: ").contains("not signed"))
        .anySatisfy(r -> assertThat(r).startsWith("worker:mock-llm:real-b: ").contains("not signed"));
    List<JsonObject> rogueRpc = view.getJsonArray("rpcBackends").stream().map(JsonObject.class::cast)
        .filter(b -> ("127.0.0.1:" + rpcListener.port()).equals(b.getString("endpoint"))).toList();
    assertThat(rogueRpc).hasSize(2).allSatisfy(b -> {
      assertThat(b.getString("state")).isEqualTo("rejected");
      assertThat(b.getString("reason")).contains("not signed");
    });
    assertThat(view.getJsonArray("rpcBackends").stream().map(JsonObject.class::cast)
        .filter(b -> ("127.0.0.1:" + rpcPort).equals(b.getString("endpoint"))).findFirst().orElseThrow()
        .getString("state")).as("the honest rpc-agent's record").isEqualTo("announced");

    JsonObject pool = worker("tiny-b").getJsonObject("engineStatus");
    assertThat(pool.getJsonArray("rpcPool").stream().map(JsonObject.class::cast).map(c -> c.getString("endpoint")))
        .containsExactly("127.0.0.1:" + rpcPort);
    assertThat(pool.getJsonArray("rpcPoolRejectedRecords").stream().map(JsonObject.class::cast)
        .map(r -> r.getString("name"))).contains(RpcBackendRecord.RECORD_TYPE + ":127.0.0.1:" + rpcListener.port());
    assertThat(llamaServerRpc()).containsExactly("127.0.0.1:" + rpcPort);
    assertThat(rpcListener.connections()).as("connections to the rogue's rpc-server (weights would follow)").isZero();
    outcomes.put("rpcContacted", rpcListener.connections());
    outcomes.put("recordsRejected", rejected.size() + rogueRpc.size());
    assertThat(grpcListener.connections()).as("no gateway connected to the rogue's gRPC endpoint").isZero();
    // What an operator runs: doctor names each refused record and why.
    ClusterTestSupport.DoctorRun doctor = ClusterTestSupport.doctor("--gateway", "http://127.0.0.1:" + gatewayPort);
    assertThat(doctor.output()).contains("rpc-server record 127.0.0.1:" + rpcListener.port() + " (node "
        + rogue.nodeId + ") is not honoured: it is not signed")
        .contains("discovery record worker:rogue-llm:rogue-1 (node " + rogue.nodeId + ") is not honoured");
    assertThat(workerNode.output()).as("refusals are logged once each")
        .containsOnlyOnce("\"node\":\"" + rogue.nodeId + "\",\"reason\":\"it is not signed");
  }

  @Test
  @Order(2)
  void aRealRecordRewrittenInPlaceIsNeverUsedAndItsNodePutsItBack() throws Exception {
    Record real = rogue.records(WorkerDescriptor.RECORD_TYPE).stream()
        .filter(r -> "real-b".equals(r.getMetadata().getString("workerId")) && r.getMetadata().containsKey("signature"))
        .findFirst().orElseThrow();
    Record rewritten = new Record(real.toJson()).setLocation(rogueEndpoints());
    rewritten.getMetadata().put("endpoints", rogueEndpoints());
    rogue.discovery.update(rewritten).await(30, TimeUnit.SECONDS);
    attempts++;

    // Until its node puts the record back (within 3 s), the worker has no record the gateway honours: requests for
    // its model may get 503 (the rogue can deny service, as it could by deleting the record), never the rogue.
    Map<Integer, Integer> statuses = new java.util.TreeMap<>();
    long until = System.currentTimeMillis() + 8_000;
    while (System.currentTimeMillis() < until) {
      HttpResponse<String> response = chat("mock-llm");
      statuses.merge(response.statusCode(), 1, Integer::sum);
      assertThat(response.statusCode()).as(response.body()).isIn(200, 503);
      if (response.statusCode() == 200) {
        assertThat(response.headers().firstValue("x-switchboard-worker")).hasValue("real-b");
      }
    }
    outcomes.put("realModelWhileRewritten", statuses);
    assertThat(workerNode.output()).contains("a discovery record of this node was changed by another process");
    Eventually.within(ofSeconds(15), "the real record is the worker's own again",
        () -> rogue.records(WorkerDescriptor.RECORD_TYPE)
        .stream().filter(r -> "real-b".equals(r.getMetadata().getString("workerId")))
        .filter(r -> r.getMetadata().containsKey("signature"))
        .allMatch(r -> Addresses.workerGenerate("real-b").equals(r.getLocation().getString("eventbus"))));
    Eventually.within(ofSeconds(15), "the worker is served again", () -> served(gatewayPort, "mock-llm"));
    assertThat(grpcListener.connections()).as("no gateway connected to the rogue's gRPC endpoint").isZero();
    assertThat(grpcListener.received(CANARY) || eventBusListener.received(CANARY)).isFalse();
  }

  @Test
  @Order(3)
  void itCannotGetAGenerateRequestAcceptedByTheRealWorker() throws Exception {
    String requestId = "rogue-request-" + UUID.randomUUID();
    JsonObject request = new JsonObject().put("streamId", "rogue-stream").put("requestId", requestId)
        .put("model", "mock-llm").put("kind", "chat")
        .put("body", new JsonObject().put("model", "mock-llm").put("max_tokens", 3).put("messages", new JsonArray()
            .add(new JsonObject().put("role", "user").put("content", "from the rogue"))))
        .put("prompt", "from the rogue").put("deadline", System.currentTimeMillis() + 30_000)
        .put("gatewayNodeId", rogue.nodeId).put("replyAddress", "rogue.replies").put("initialCredits", 64);
    attempts++;
    Throwable eventBus = null;
    try {
      rogue.vertx.eventBus().request(Addresses.workerGenerate("real-b"), request,
          new DeliveryOptions().setSendTimeout(5_000)).await(20, TimeUnit.SECONDS);
    } catch (Throwable refused) {
      eventBus = refused;
    }
    assertThat(eventBus).as("the real worker accepted the rogue's event-bus request").isNotNull();
    outcomes.put("eventBusGenerate", "refused(" + eventBus.getClass().getSimpleName() + ")");

    String grpc = worker("real-b").getJsonObject("endpoints").getString(WorkerDescriptor.ENDPOINT_GRPC);
    int colon = grpc.lastIndexOf(':');
    attempts++;
    Throwable grpcFailure = null;
    io.vertx.core.http.HttpClient h2c = rogue.vertx.createHttpClient(new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false).setConnectTimeout(5_000));
    try {
      h2c.request(HttpMethod.POST, Integer.parseInt(grpc.substring(colon + 1)), grpc.substring(0, colon),
              "/switchboard.worker.v1.WorkerPlane/Generate")
          .compose(call -> call.putHeader("content-type", "application/grpc").send(request.toBuffer()))
          .await(20, TimeUnit.SECONDS);
    } catch (Throwable refused) {
      grpcFailure = refused;
    } finally {
      h2c.close();
    }
    assertThat(grpcFailure).as("the gRPC plane answered a peer without the cluster's certificate").isNotNull();
    outcomes.put("grpcGenerate", "refused(" + grpcFailure.getClass().getSimpleName() + ")");
    // Real time in which a request that got through would show in the worker's log.
    Thread.sleep(1_000);
    assertThat(workerNode.output()).doesNotContain(requestId);
  }

  @Test
  @Order(4)
  void subscribingToARealWorkersAddressGetsItNoPlaintext() throws Exception {
    List<String> received = new CopyOnWriteArrayList<>();
    for (String address : List.of(Addresses.workerGenerate("real-b"), Addresses.LOAD_REPORTS,
        Addresses.GATEWAY_REPORTS, Addresses.ROUTER_PREFIXES)) {
      rogue.vertx.eventBus().<Object>consumer(address, message -> {
        String body = String.valueOf(message.body());
        if (!body.contains(rogue.nodeId)) {
          // (Its own load reports reach its own consumer, of course.)
          received.add(body);
        }
      }).completion().await(30, TimeUnit.SECONDS);
      attempts++;
    }
    // Real time for the rogue's subscriptions to reach the other members, as a real one's would.
    Thread.sleep(3_000);
    Map<Integer, Integer> statuses = new java.util.TreeMap<>();
    for (int i = 0; i < 10; i++) {
      statuses.merge(chat("mock-llm").statusCode(), 1, Integer::sum);
    }
    outcomes.put("realModelWhileSubscribed", statuses);
    assertThat(statuses.keySet()).as("never a 500").allMatch(status -> status == 200 || status == 503);
    assertThat(eventBusListener.connections()).as("the nodes did connect to the rogue's event bus").isPositive();
    assertThat(eventBusListener.plaintextConnections()).as("connections that did not start with a TLS handshake")
        .isZero();
    assertThat(eventBusListener.received(CANARY)).as("a prompt reached the rogue").isFalse();
    assertThat(received).as("messages from the nodes the rogue's consumers got").isEmpty();
    Eventually.within(ofSeconds(15), "the gateway's event bus failed its TLS handshake with the rogue",
        () -> nodes.get(0).output()
        .contains("Connecting to server " + rogue.nodeId + " failed"));
    assertThat(nodes.get(0).output().lines().filter(line -> line.contains("Connecting to server " + rogue.nodeId))
        .toList()).allSatisfy(line -> assertThat(line).contains("SSLHandshakeException"));
    outcomes.put("rogueEventBusConnections", eventBusListener.connections() + "(all failed TLS)");
    outcomes.put("plaintextToRogue", eventBusListener.plaintextConnections());
    outcomes.put("promptsReceived", eventBusListener.received(CANARY) ? 1 : 0);
  }

  @Test
  @Order(5)
  void itsDeserializationGadgetIsRefusedLoggedAndRemoved() throws Exception {
    // A JDK class that gadget chains start from (CommonsCollections5); not on cluster.xml's allowlist.
    rogue.manager.getHazelcastInstance().getMap(MembershipWatcher.DISCOVERY_MAP)
        .put("rogue-gadget", new javax.management.BadAttributeValueExpException("gadget"));
    attempts++;
    Eventually.within(ofSeconds(30), "a node refused, logged and removed the gadget",
        () -> nodes.stream().anyMatch(node -> {
      try {
        return node.output().contains("refuses to deserialize")
            && node.output().contains("javax.management.BadAttributeValueExpException");
      } catch (Exception unreadable) {
        return false;
      }
    }));
    Eventually.within(ofSeconds(15), "the gadget is gone from the discovery map",
        () -> !rogue.manager.getHazelcastInstance()
        .getMap(MembershipWatcher.DISCOVERY_MAP).containsKey("rogue-gadget"));
    Eventually.within(ofSeconds(15), "the cluster serves again", () -> served(gatewayPort, "mock-llm"));
    outcomes.put("gadget", "refused+removed");
  }

  @Test
  @Order(6)
  void withTlsOffTheRogueGetsPromptsUsesRpcServersAndDrivesWorkers() throws Exception {
    Map<String, String> plain = freshCluster("rogue-plain");
    int port = FreePorts.any();
    try (NodeProcess node = new NodeProcess("rogue-it-plain", plain, "--http-port", Integer.toString(port))) {
      Eventually.within(ofSeconds(90), "the plain node serves", () -> served(port, "mock-llm"));
      String realWorker = ClusterTestSupport.routableWorkers(port).get(0);
      try (RogueMember plainRogue = RogueMember.join(plain.get("SWITCHBOARD_CLUSTER_NAME"),
          Integer.parseInt(plain.get("SWITCHBOARD_CLUSTER_PORT")), null)) {
        List<String> prompts = new CopyOnWriteArrayList<>();
        plainRogue.vertx.eventBus().<JsonObject>consumer(Addresses.workerGenerate("rogue-1"), message -> {
          prompts.add(message.body().encode());
          message.fail(1, "the rogue keeps the prompt");
        }).completion().await(30, TimeUnit.SECONDS);
        plainRogue.publishWorker("rogue-1", plainRogue.nodeId, "rogue-llm", new JsonObject()
            .put(WorkerDescriptor.ENDPOINT_EVENTBUS, Addresses.workerGenerate("rogue-1")));
        plainRogue.reportLoad("rogue-1", "rogue-llm");
        Eventually.within(ofSeconds(30), "its worker is routable",
            () -> ClusterTestSupport.routableWorkers(port).contains("rogue-1"));
        chat(port, "rogue-llm");
        assertThat(prompts).as("the prompt reached the rogue").anySatisfy(p -> assertThat(p).contains(CANARY));

        try (RecordingListener rpc = new RecordingListener()) {
          plainRogue.publishRpcServer(plainRogue.nodeId, "127.0.0.1", rpc.port());
          Eventually.within(ofSeconds(30), "its rpc-server is honoured",
              () -> new JsonObject(get(port, "/admin/cluster").body())
              .getJsonArray("rpcBackends").stream().map(JsonObject.class::cast)
              .anyMatch(b -> ("127.0.0.1:" + rpc.port()).equals(b.getString("endpoint"))
                  && "announced".equals(b.getString("state"))));
        }

        List<JsonObject> chunks = new CopyOnWriteArrayList<>();
        plainRogue.vertx.eventBus().<JsonObject>consumer("rogue.replies", message -> chunks.add(message.body()))
            .completion().await(30, TimeUnit.SECONDS);
        JsonObject accepted = plainRogue.vertx.eventBus().<JsonObject>request(Addresses.workerGenerate(realWorker),
            new JsonObject().put("streamId", "rogue-stream").put("requestId", "rogue-request").put("model", "mock-llm")
                .put("kind", "chat").put("body", new JsonObject().put("model", "mock-llm").put("max_tokens", 3)
                    .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi"))))
                .put("prompt", "hi").put("deadline", System.currentTimeMillis() + 30_000)
                .put("gatewayNodeId", plainRogue.nodeId).put("replyAddress", "rogue.replies")
                .put("initialCredits", 64), new DeliveryOptions().setSendTimeout(10_000))
            .await(20, TimeUnit.SECONDS).body();
        assertThat(accepted.getBoolean("accepted")).isTrue();
        Eventually.within(ofSeconds(15), "the real worker streams to the rogue", () -> !chunks.isEmpty());
        System.out.println("rogue-member: tls=off tried 3 attacks; workerRoutable=yes promptsReceived="
            + prompts.size() + " rpcServerHonoured=yes realWorkerAcceptedItsRequest=yes chunksToRogue="
            + chunks.size());
      }
    }
  }

  // ---- helpers

  /** Where the rogue's workers say they are: addresses of its own. */
  private static JsonObject rogueEndpoints() {
    return new JsonObject().put(WorkerDescriptor.ENDPOINT_EVENTBUS, Addresses.workerGenerate("rogue-1"))
        .put(WorkerDescriptor.ENDPOINT_GRPC, "127.0.0.1:" + grpcListener.port());
  }

  private static HttpResponse<String> chat(String model) throws Exception {
    return chat(gatewayPort, model);
  }

  private static HttpResponse<String> chat(int port, String model) throws Exception {
    return post(port, "/v1/chat/completions", new JsonObject().put("model", model).put("max_tokens", 3)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "secret " + CANARY)))
        .encode());
  }

  private static boolean served(int port, String model) {
    try {
      return chat(port, model).statusCode() == 200;
    } catch (Exception notUpYet) {
      return false;
    }
  }

  private static JsonObject adminCluster() throws Exception {
    return new JsonObject(get(gatewayPort, "/admin/cluster").body());
  }

  private static List<JsonObject> workers() throws Exception {
    return adminCluster().getJsonArray("workers").stream().map(JsonObject.class::cast).toList();
  }

  private static JsonObject worker(String id) throws Exception {
    return workers().stream().filter(w -> id.equals(w.getString("workerId"))).findFirst()
        .orElseThrow(() -> new AssertionError("no worker " + id + " in /admin/cluster"));
  }

  /** The rpc endpoints the llamacpp worker's llama-server runs over now (null while unknown). */
  private static List<String> llamaServerRpc() {
    try {
      JsonArray rpc = worker("tiny-b").getJsonObject("engineStatus").getJsonObject("llamaServer").getJsonArray("rpc");
      return rpc == null ? null : rpc.stream().map(Objects::toString).toList();
    } catch (Throwable notYet) {
      return null;
    }
  }

  /** A CA and one node certificate it signed, made with openssl as docs/security.md says. */
  private static void makeCertificates() throws Exception {
    Files.createDirectories(CERTS);
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days",
        "2", "-subj", "/CN=switchboard-test-ca");
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "node.key", "-out", "node.csr", "-subj",
        "/CN=node");
    run("openssl", "x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "node.pem", "-days", "2");
  }

  private static void run(String... command) throws Exception {
    Process process = new ProcessBuilder(command).directory(CERTS.toFile()).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(String.join(" ", command) + ": " + output).isZero();
  }
}
