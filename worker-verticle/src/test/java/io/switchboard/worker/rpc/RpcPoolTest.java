package io.switchboard.worker.rpc;

import io.switchboard.protocol.RpcBackendRecord;
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

  private void startPool(RpcPoolOptions options) throws Exception {
    pool = new RpcPool(vertx, new RpcProbe(vertx, RpcProbe.DEFAULT_PROTOCOL_MAJOR, 500), options);
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

  private static void waitUntil(String what, long timeoutMs, Check check) throws Exception {
    long until = System.currentTimeMillis() + timeoutMs;
    while (!check.ok()) {
      assertThat(System.currentTimeMillis()).as("timed out waiting until " + what).isLessThan(until);
      Thread.sleep(50);
    }
  }

  @FunctionalInterface
  interface Check {
    boolean ok() throws Exception;
  }

  private int rpcServer() throws Exception {
    int port = RpcProbeTestSupport.freePort();
    processes.add(RpcProbeTestSupport.startRpcServer(port));
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

    waitUntil("the real rpc-server joins", 10_000, () -> members().equals(List.of("127.0.0.1:" + real)));
    waitUntil("every other candidate is rejected", 10_000, () -> state(silentEndpoint) != null
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
    int latePort = RpcProbeTestSupport.freePort();
    startPool(new RpcPoolOptions().setEndpoints(List.of("127.0.0.1:" + first, "127.0.0.1:" + latePort))
        .setCheckIntervalMs(500).setRejectedRecheckMs(1000));
    waitUntil("the first joins", 10_000, () -> members().size() == 1);

    processes.get(0).destroyForcibly().waitFor();
    long killed = System.nanoTime();
    waitUntil("the killed one leaves", 5_000, () -> members().isEmpty());
    System.out.printf("a SIGKILLed rpc-server left the pool after %d ms%n", (System.nanoTime() - killed) / 1_000_000);
    assertThat(state("127.0.0.1:" + first).getString("reason")).contains("left the pool");

    processes.add(RpcProbeTestSupport.startRpcServer(latePort));
    waitUntil("the late one joins", 10_000, () -> members().equals(List.of("127.0.0.1:" + latePort)));
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

    waitUntil("the announced server joins", 10_000, () -> members().equals(List.of("127.0.0.1:" + port)));
    assertThat(state("127.0.0.1:" + port).getJsonArray("sources")).containsExactly("cluster");

    discovery.unpublish(published.getRegistration()).await(10, TimeUnit.SECONDS);
    waitUntil("the withdrawn server leaves", 5_000, () -> members().isEmpty());
    discovery.close();
  }

  @Test
  void aConfiguredScanFindsTheListeningAddressesOfOneCidr() throws Exception {
    int port = rpcServer();
    startPool(new RpcPoolOptions().setScanCidr("127.0.0.1/32").setScanPort(port).setCheckIntervalMs(200));

    waitUntil("the scanned server joins", 10_000, () -> members().equals(List.of("127.0.0.1:" + port)));
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
