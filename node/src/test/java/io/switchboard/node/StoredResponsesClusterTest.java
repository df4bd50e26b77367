package io.switchboard.node;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.gateway.dialect.responses.store.ClusterResponseStore;
import io.switchboard.gateway.dialect.responses.store.ResponseStoreOptions;
import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.FreePorts;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.core.transport.Transport;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static java.time.Duration.ofSeconds;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Stored Responses-API answers between two clustered Vert.x nodes configured as the launcher configures them: an
 * answer stored through one is found through the other, removed for both, gone after its time to live, and each
 * member's share stays within gateway.responses.maxMegabytes however much is stored (last: it fills the map).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StoredResponsesClusterTest {

  private static final ResponseStoreOptions OPTIONS = new ResponseStoreOptions().setTtlSeconds(2).setMaxMegabytes(1);
  private static final List<ClusteredVertxFactory.ClusteredVertx> nodes = new ArrayList<>();

  @BeforeAll
  static void startTwoNodes() throws Exception {
    int port = FreePorts.any();
    ClusterOptions cluster = new ClusterOptions().setName("responses-" + UUID.randomUUID().toString().substring(0, 8))
        .setPort(port).setMembers(List.of("127.0.0.1:" + port, "127.0.0.1:" + (port + 1)));
    for (int i = 0; i < 2; i++) {
      nodes.add(ClusteredVertxFactory.create(cluster, OPTIONS, Transport.NIO, 1,
          new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)).await(60, SECONDS));
    }
    assertThat(nodes.get(0).clusterManager().getNodes()).as("both nodes in one cluster").hasSize(2);
  }

  @AfterAll
  static void stop() throws Exception {
    for (var node : nodes) {
      node.close().await(60, SECONDS);
    }
  }

  @Test
  @Order(1)
  @ExtendWith(VertxExtension.class)
  void anAnswerStoredThroughOneNodeIsFoundAndRemovedThroughTheOther(VertxTestContext test) {
    ClusterResponseStore one = new ClusterResponseStore(nodes.get(0).vertx(), OPTIONS);
    ClusterResponseStore other = new ClusterResponseStore(nodes.get(1).vertx(), OPTIONS);
    JsonObject stored = new JsonObject().put("response", new JsonObject().put("id", "resp_1").put("status", "completed"))
        .put("messages", new io.vertx.core.json.JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")));
    one.put("resp_1", stored)
        .compose(put -> other.get("resp_1"))
        .compose(found -> {
          test.verify(() -> assertThat(found).isEqualTo(stored));
          return other.remove("resp_1");
        })
        .compose(removed -> {
          test.verify(() -> assertThat(removed).isTrue());
          return one.get("resp_1");
        })
        .compose(gone -> {
          test.verify(() -> assertThat(gone).as("removed for both nodes").isNull());
          return one.remove("resp_1");
        })
        .compose(removedAgain -> {
          test.verify(() -> assertThat(removedAgain).as("nothing left to remove").isFalse());
          return one.get("resp_unknown");
        })
        .onComplete(test.succeeding(unknown -> test.verify(() -> {
          assertThat(unknown).isNull();
          test.completeNow();
        })));
  }

  @Test
  @Order(2)
  void anAnswerIsGoneAfterItsTimeToLive() throws Exception {
    ClusterResponseStore store = new ClusterResponseStore(nodes.get(0).vertx(), OPTIONS);
    store.put("resp_ttl", new JsonObject().put("response", new JsonObject())).await(60, SECONDS);
    assertThat(store.get("resp_ttl").await(60, SECONDS)).isNotNull();
    // Hazelcast's own clock: the test waits for the real time to live.
    Eventually.within(ofSeconds(10), "expired after gateway.responses.ttlSeconds (2 s)",
        () -> store.get("resp_ttl").await(60, SECONDS) == null);
  }

  @Test
  @Order(3)
  void eachMembersShareStaysWithinItsMegabytes() throws Exception {
    ClusterResponseStore store = new ClusterResponseStore(nodes.get(0).vertx(), OPTIONS);
    String text = "x".repeat(2 * 1024);
    // 6 MB of answers into a map bounded to 1 MB on each of two members. Hazelcast evicts per partition, sampling for
    // the least recently used, so enough answers per partition that the newest is never the only candidate.
    int written = 3000;
    for (int i = 0; i < written; i++) {
      store.put("resp_big_" + i, new JsonObject().put("response", new JsonObject().put("text", text)))
          .await(60, SECONDS);
    }
    var map = nodes.get(0).clusterManager().getHazelcastInstance().getMap(ResponseStoreOptions.MAP_NAME);
    long heldBytes = 0;
    for (var member : nodes) {
      heldBytes += member.clusterManager().getHazelcastInstance().getMap(ResponseStoreOptions.MAP_NAME)
          .getLocalMapStats().getOwnedEntryMemoryCost();
    }
    System.out.printf("stored-responses: wrote %d answers of 2 KB, %d kept, %d bytes held by the two members%n",
        written, map.size(), heldBytes);
    StringBuilder kept = new StringBuilder();
    for (int i = written - 40; i < written; i++) {
      kept.append(store.get("resp_big_" + i).await(60, SECONDS) != null ? '1' : '0');
    }
    StringBuilder early = new StringBuilder();
    for (int i = 0; i < 40; i++) {
      early.append(store.get("resp_big_" + i).await(60, SECONDS) != null ? '1' : '0');
    }
    System.out.println("stored-responses: of the last 40 kept " + kept + ", of the first 40 kept " + early);
    assertThat(map.size()).as("least recently used answers evicted").isLessThan(written);
    assertThat(heldBytes).as("within 1 MB per member").isLessThanOrEqualTo(2L * 1024 * 1024);
    // Hazelcast samples a partition for the least recently used entry, so a recent answer may go too; most stay.
    assertThat(kept.chars().filter(c -> c == '1').count()).as("most of the newest answers kept").isGreaterThanOrEqualTo(30);
    // Eviction runs per partition as entries are put into it, so a lightly written partition may keep an old answer
    // or two; random eviction would keep about a third of them (what the map holds of what was written).
    assertThat(early.chars().filter(c -> c == '1').count()).as("the oldest answers went first (" + early + ")")
        .isLessThanOrEqualTo(4);
  }
}
