package io.switchboard.node;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.nio.serialization.HazelcastSerializationException;
import io.switchboard.testsupport.FreePorts;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.spi.cluster.hazelcast.impl.HazelcastCounter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A node's Hazelcast (configured from cluster.xml) and a rogue member that joined its cluster with Hazelcast's
 * defaults (open source Hazelcast lets anyone with the cluster's name join). What the rogue writes into the
 * cluster's maps is Java-deserialized on the node only for the allowlisted classes: its gadget is refused before its
 * {@code readObject} runs, the refused value is removed from the discovery map, and the cluster's own data still
 * works.
 */
class HazelcastSerializationFilterTest {

  private static HazelcastInstance node;
  private static HazelcastInstance rogue;

  /** A deserialization gadget: it acts in {@code readObject}, on whichever JVM deserializes it. */
  static final class Gadget implements Serializable {
    static final AtomicInteger ACTED = new AtomicInteger();
    private static final long serialVersionUID = 1L;

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
      in.defaultReadObject();
      ACTED.incrementAndGet();
    }
  }

  @BeforeAll
  static void startNodeAndRogue() throws IOException {
    int port = FreePorts.any();
    ClusterOptions cluster = new ClusterOptions().setName("filter-" + UUID.randomUUID().toString().substring(0, 8))
        .setPort(port).setMembers(List.of("127.0.0.1:" + port));
    node = Hazelcast.newHazelcastInstance(ClusteredVertxFactory.hazelcastConfig(cluster));
    // The rogue: Hazelcast's defaults (no filter), the cluster's name and an address to join through.
    Config defaults = new Config().setClusterName(cluster.getName());
    defaults.getNetworkConfig().setPort(port + 1).setPortAutoIncrement(true);
    defaults.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
    defaults.getNetworkConfig().getJoin().getMulticastConfig().setEnabled(false);
    defaults.getNetworkConfig().getJoin().getTcpIpConfig().setEnabled(true).addMember("127.0.0.1:" + port);
    defaults.setProperty("hazelcast.phone.home.enabled", "false");
    rogue = Hazelcast.newHazelcastInstance(defaults);
    assertThat(node.getCluster().getMembers()).as("the rogue joined").hasSize(2);
  }

  @AfterAll
  static void stop() {
    if (rogue != null) {
      rogue.shutdown();
    }
    if (node != null) {
      node.shutdown();
    }
  }

  @Test
  void aRogueMembersGadgetIsRefusedBeforeItsReadObjectRuns() {
    IMap<Object, Object> written = rogue.getMap("gadgets");
    written.put("g", new Gadget());
    Gadget.ACTED.set(0);

    assertThatThrownBy(() -> node.getMap("gadgets").get("g"))
        .isInstanceOf(HazelcastSerializationException.class)
        .satisfies(failure -> assertThat(RefusedValuePurge.isRefusal(failure)).isTrue())
        .satisfies(failure -> assertThat(RefusedValuePurge.rootMessage(failure))
            .isEqualTo("Resolving class " + Gadget.class.getName() + " is not allowed."));
    assertThat(Gadget.ACTED).as("the gadget's readObject never ran on the node").hasValue(0);
    assertThat(rogue.getMap("gadgets").get("g")).as("the rogue, without the filter, does run it")
        .isInstanceOf(Gadget.class);
    assertThat(Gadget.ACTED).hasValue(1);
  }

  @Test
  void aRefusedValueIsRemovedFromTheDiscoveryMapAndTheRecordsStay() {
    IMap<Object, Object> discovery = node.getMap(MembershipWatcher.DISCOVERY_MAP);
    discovery.put("record-1", "{\"type\":\"switchboard-worker\"}");
    rogue.getMap(MembershipWatcher.DISCOVERY_MAP).put("poison", new Gadget());
    assertThatThrownBy(() -> new ArrayList<>(discovery.entrySet())).as("one refused value fails every read")
        .satisfies(failure -> assertThat(RefusedValuePurge.isRefusal(failure)).isTrue());

    List<RefusedValuePurge.Removed> removed = RefusedValuePurge.purge(discovery);

    assertThat(removed).singleElement().satisfies(value -> {
      assertThat(value.key()).isEqualTo("poison");
      assertThat(value.refused()).contains(Gadget.class.getName()).contains("is not allowed");
    });
    assertThat(discovery.entrySet()).singleElement()
        .satisfies(entry -> assertThat(entry.getKey()).isEqualTo("record-1"));
  }

  @Test
  void whatTheClusterReallyStoresStillCrosses() throws Exception {
    rogue.getMap("plain").put("text", "a discovery record is JSON text");
    rogue.getMap("plain").put("list", new ArrayList<>(List.of("java.util is allowed", 7L)));
    assertThat(node.getMap("plain").get("text")).isEqualTo("a discovery record is JSON text");
    assertThat(node.getMap("plain").get("list")).isEqualTo(List.of("java.util is allowed", 7L));

    // The rate limiter's counters: Vert.x's, whose updates are entry processors (lambdas) that run, or are backed
    // up, on every member; each key's owner and backup are the two members here.
    Vertx vertx = Vertx.vertx();
    try {
      for (int i = 0; i < 8; i++) {
        HazelcastCounter fromNode = new HazelcastCounter((VertxInternal) vertx, node.getMap("__vertx.counters"),
            "rate-limit-" + i);
        HazelcastCounter fromRogue = new HazelcastCounter((VertxInternal) vertx, rogue.getMap("__vertx.counters"),
            "rate-limit-" + i);
        assertThat(fromRogue.addAndGet(41).await(10, TimeUnit.SECONDS)).isEqualTo(41);
        assertThat(fromNode.compareAndSet(41, 42).await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(fromNode.incrementAndGet().await(10, TimeUnit.SECONDS)).isEqualTo(43);
      }
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }
}
