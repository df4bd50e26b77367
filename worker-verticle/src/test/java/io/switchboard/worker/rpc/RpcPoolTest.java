package io.switchboard.worker.rpc;

import io.switchboard.protocol.ClusterMembers;
import io.switchboard.protocol.DiscoveryTrust;
import io.switchboard.protocol.RpcBackendRecord;
import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.FreePorts;
import io.switchboard.testsupport.LlamaCppServers;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.servicediscovery.Record;
import io.vertx.servicediscovery.ServiceDiscovery;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

/** The pool against real ggml-rpc-servers and listeners that are not: who joins, who is refused, who leaves. */
class RpcPoolTest {

  private Vertx vertx;
  private Context context;
  private final List<Process> processes = new ArrayList<>();
  private final List<AutoCloseable> listeners = new ArrayList<>();
  private RpcPool pool;
  private final List<List<String>> changes = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (pool != null) {
      onContext(() -> {
        pool.stop();
        return null;
      });
    }
    for (Process process : processes) {
      process.destroyForcibly().waitFor();
    }
    for (AutoCloseable listener : listeners) {
      listener.close();
    }
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private <T> T onContext(Supplier<T> action) throws Exception {
    Promise<T> result = Promise.promise();
    context.runOnContext(v -> result.complete(action.get()));
    return result.future().await(10, TimeUnit.SECONDS);
  }

  /** The cluster as its membership knows it: node-1 at 127.0.0.1, node-2 at 10.9.9.9. */
  private static final ClusterMembers MEMBERS = nodeId -> switch (nodeId) {
    case "node-1" -> List.of("127.0.0.1");
    case "node-2" -> List.of("10.9.9.9");
    default -> List.of();
  };

  private void startPool(RpcPoolOptions options) throws Exception {
    pool = new RpcPool(vertx, new RpcProbe(vertx, RpcProbe.DEFAULT_PROTOCOL_MAJOR, 500), options,
        DiscoveryTrust.unsigned(MEMBERS));
    onContext(() -> {
      pool.onChange(changes::add);
      pool.start();
      return null;
    });
  }

  private List<String> members() throws Exception {
    return onContext(() -> pool.members());
  }

  private JsonObject state(String endpoint) throws Exception {
    return onContext(() -> pool.toJson().stream().map(JsonObject.class::cast)
        .filter(c -> endpoint.equals(c.getString("endpoint"))).findFirst().orElse(null));
  }

  private int rpcServer() throws Exception {
    int port = FreePorts.any();
    processes.add(LlamaCppServers.rpcServer(port));
    return port;
  }

  @Test
  void onlyRealRpcServersJoinAndEveryRejectionSaysWhy() throws Exception {
    int real = rpcServer();
    ServerSocket silent = new ServerSocket(0);
    listeners.add(silent);
    String silentEndpoint = "127.0.0.1:" + silent.getLocalPort();

    startPool(new RpcPoolOptions().setEndpoints(List.of("127.0.0.1:" + real, silentEndpoint, "127.0.0.1:0",
        "no-such-host.invalid:50052")).setCheckIntervalMs(200).setRejectedRecheckMs(5000));

    Eventually.within(ofSeconds(10), "the real rpc-server joins", () -> members().equals(List.of("127.0.0.1:" + real)));
    Eventually.within(ofSeconds(10), "every other candidate is rejected", () -> state(silentEndpoint) != null
        && "rejected".equals(state(silentEndpoint).getString("state")));
    assertThat(state(silentEndpoint).getString("reason")).contains("no HELLO reply");
    assertThat(state("127.0.0.1:0").getString("reason")).contains("port 0");
    assertThat(state("no-such-host.invalid:50052").getString("reason")).contains("does not resolve");
    assertThat(state("127.0.0.1:" + real).getString("version")).startsWith("7.");
    assertThat(changes).containsExactly(List.of("127.0.0.1:" + real));
  }

  @Test
  void aKilledMemberLeavesWithinFiveSecondsAndALateOneJoins() throws Exception {
    int first = rpcServer();
    int latePort = FreePorts.any();
    startPool(new RpcPoolOptions().setEndpoints(List.of("127.0.0.1:" + first, "127.0.0.1:" + latePort))
        .setCheckIntervalMs(500).setRejectedRecheckMs(1000));
    Eventually.within(ofSeconds(10), "the first joins", () -> members().size() == 1);

    processes.get(0).destroyForcibly().waitFor();
    long killed = System.nanoTime();
    Eventually.within(ofSeconds(5), "the killed one leaves", () -> members().isEmpty());
    System.out.printf("a SIGKILLed rpc-server left the pool after %d ms%n", (System.nanoTime() - killed) / 1_000_000);
    assertThat(state("127.0.0.1:" + first).getString("reason")).contains("left the pool");

    processes.add(LlamaCppServers.rpcServer(latePort));
    Eventually.within(ofSeconds(10), "the late one joins", () -> members().equals(List.of("127.0.0.1:" + latePort)));
    assertThat(changes).containsExactly(List.of("127.0.0.1:" + first), List.of(),
        List.of("127.0.0.1:" + latePort));
  }

  @Test
  void clusterAnnouncementsAreCandidatesAndAWithdrawnOneLeaves() throws Exception {
    int port = rpcServer();
    ServiceDiscovery discovery = ServiceDiscovery.create(vertx);
    RpcBackendRecord backend = new RpcBackendRecord("agent-1", "node-1", "127.0.0.1", port, "7.0.0",
        new JsonArray(), -1);
    Record published = discovery.publish(new Record().setType(RpcBackendRecord.RECORD_TYPE)
        .setName(backend.recordName()).setMetadata(backend.toJson())).await(10, TimeUnit.SECONDS);
    startPool(new RpcPoolOptions().setCheckIntervalMs(200));

    Eventually.within(ofSeconds(10), "the announced server joins",
        () -> members().equals(List.of("127.0.0.1:" + port)));
    assertThat(state("127.0.0.1:" + port).getJsonArray("sources")).containsExactly("cluster");

    discovery.unpublish(published.getRegistration()).await(10, TimeUnit.SECONDS);
    Eventually.within(ofSeconds(5), "the withdrawn server leaves", () -> members().isEmpty());
    discovery.close();
  }

  private static Record announce(ServiceDiscovery discovery, String nodeId, String host, int port) throws Exception {
    RpcBackendRecord backend = new RpcBackendRecord("agent-" + nodeId + "-" + port, nodeId, host, port, "7.0.0",
        new JsonArray(), -1);
    return discovery.publish(new Record().setType(RpcBackendRecord.RECORD_TYPE).setName(backend.recordName())
        .setMetadata(backend.toJson())).await(10, TimeUnit.SECONDS);
  }

  /** A listener that counts the connections it gets: a refused record's endpoint must never be contacted. */
  private java.util.concurrent.atomic.AtomicInteger countingListener(ServerSocket socket) {
    java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();
    listeners.add(socket);
    Thread thread = new Thread(() -> {
      while (!socket.isClosed()) {
        try (java.net.Socket connection = socket.accept()) {
          accepted.incrementAndGet();
        } catch (java.io.IOException closed) {
          return;
        }
      }
    }, "counting-listener");
    thread.setDaemon(true);
    thread.start();
    return accepted;
  }

  @Test
  void recordsFromStrangersOrNamingAnotherAddressAreRefusedAndNeverContacted() throws Exception {
    int real = rpcServer();
    ServerSocket rogue = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    java.util.concurrent.atomic.AtomicInteger contacted = countingListener(rogue);
    int roguePort = rogue.getLocalPort();
    ServiceDiscovery discovery = ServiceDiscovery.create(vertx);
    announce(discovery, "node-1", "127.0.0.1", real);
    // A process that is no member of the cluster, and a member naming an address that is not its own.
    announce(discovery, "stranger", "127.0.0.1", roguePort);
    announce(discovery, "node-2", "127.0.0.1", roguePort);
    startPool(new RpcPoolOptions().setCheckIntervalMs(200).setRejectedRecheckMs(200));

    Eventually.within(ofSeconds(10), "the member's server joins", () -> members().equals(List.of("127.0.0.1:" + real)));
    Eventually.within(ofSeconds(10), "both refusals are listed",
        () -> onContext(() -> pool.refusedRecords().size()) == 2);
    // Real time for five rechecks (every 200 ms), none of which may contact the refused endpoint.
    Thread.sleep(1_000);

    assertThat(members()).containsExactly("127.0.0.1:" + real);
    assertThat(state("127.0.0.1:" + roguePort)).as("not even a candidate").isNull();
    assertThat(contacted.get()).as("connections to the refused endpoint").isZero();
    JsonArray refused = onContext(() -> pool.refusedRecords().toJson());
    assertThat(refused.stream().map(JsonObject.class::cast).map(r -> r.getString("node") + ": " + r.getString("reason")))
        .anySatisfy(line -> assertThat(line).startsWith("stranger: ").contains("not a member of the cluster"))
        .anySatisfy(line -> assertThat(line).startsWith("node-2: ").contains("names host 127.0.0.1")
            .contains("node-2 is at 10.9.9.9"));
    discovery.close();
  }

  @Test
  void anEndpointTheOperatorListedIsTakenFromAnyRecord() throws Exception {
    int listed = rpcServer();
    int inCidr = rpcServer();
    ServiceDiscovery discovery = ServiceDiscovery.create(vertx);
    announce(discovery, "stranger", "127.0.0.1", listed);
    startPool(new RpcPoolOptions().setEndpoints(List.of("127.0.0.1:" + listed)).setCheckIntervalMs(200));
    Eventually.within(ofSeconds(10), "the listed server joins", () -> members().equals(List.of("127.0.0.1:" + listed)));
    assertThat(state("127.0.0.1:" + listed).getJsonArray("sources")).containsExactly("static", "cluster");
    onContext(() -> {
      pool.stop();
      return null;
    });

    announce(discovery, "stranger", "127.0.0.1", inCidr);
    startPool(new RpcPoolOptions().setScanCidr("127.0.0.1/32").setScanPort(1).setCheckIntervalMs(200));
    Eventually.within(ofSeconds(10), "the server in the listed CIDR joins",
        () -> members().contains("127.0.0.1:" + inCidr));
    assertThat(state("127.0.0.1:" + inCidr).getJsonArray("sources")).containsExactly("cluster");
    discovery.close();
  }

  @Test
  void aMembersRecordRefusedLaterLeavesThePool() throws Exception {
    int port = rpcServer();
    java.util.concurrent.atomic.AtomicReference<List<String>> at = new java.util.concurrent.atomic.AtomicReference<>(
        List.of("127.0.0.1"));
    ServiceDiscovery discovery = ServiceDiscovery.create(vertx);
    announce(discovery, "node-1", "127.0.0.1", port);
    pool = new RpcPool(vertx, new RpcProbe(vertx, RpcProbe.DEFAULT_PROTOCOL_MAJOR, 500),
        new RpcPoolOptions().setCheckIntervalMs(200), DiscoveryTrust.unsigned(nodeId -> "node-1".equals(nodeId)
        ? at.get() : List.of()));
    onContext(() -> {
      pool.onChange(changes::add);
      pool.start();
      return null;
    });
    Eventually.within(ofSeconds(10), "the member's server joins", () -> members().equals(List.of("127.0.0.1:" + port)));

    // Its node left the cluster (the record lingers until the survivors remove it).
    at.set(List.of());
    Eventually.within(ofSeconds(5), "the server leaves", () -> members().isEmpty());
    assertThat(state("127.0.0.1:" + port)).isNull();
    assertThat(onContext(() -> pool.refusedRecords().toJson()).getJsonObject(0).getString("reason"))
        .contains("not a member");
    discovery.close();
  }

  @Test
  void aConfiguredScanFindsTheListeningAddressesOfOneCidr() throws Exception {
    int port = rpcServer();
    startPool(new RpcPoolOptions().setScanCidr("127.0.0.1/32").setScanPort(port).setCheckIntervalMs(200));

    Eventually.within(ofSeconds(10), "the scanned server joins", () -> members().equals(List.of("127.0.0.1:" + port)));
    assertThat(state("127.0.0.1:" + port).getJsonArray("sources")).containsExactly("scan");
  }

  @Test
  void scansAreBoundedAndEntriesValidated() {
    assertThat(Cidr.parse("10.0.0.4/30", 1024)).containsExactly("10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.7");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new RpcPoolOptions().setScanCidr("10.0.0.0/16")
        .validate("pool")).hasMessageContaining("pool.scanCidr").hasMessageContaining("65536");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new RpcPoolOptions().setEndpoints(List.of("host"))
        .validate("pool")).hasMessageContaining("pool.endpoints[0]");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new RpcPoolOptions().setCheckIntervalMs(5000)
        .validate("pool")).hasMessageContaining("pool.checkIntervalMs");
  }
}
