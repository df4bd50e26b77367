package io.switchboard.node;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.gateway.dialect.responses.store.ClusterResponseStore;
import io.switchboard.gateway.dialect.responses.store.ResponseStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.core.transport.Transport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

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
    int port = ClusterTestSupport.freePort();
    ClusterOptions cluster = new ClusterOptions().setName("responses-" + UUID.randomUUID().toString().substring(0, 8))
        .setPort(port).setMembers(List.of("127.0.0.1:" + port, "127.0.0.1:" + (port + 1)));
    for (int i = 0; i < 2; i++) {
      nodes.add(await(ClusteredVertxFactory.create(cluster, OPTIONS, Transport.NIO, 1,
          new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))));
    }
    assertThat(nodes.get(0).clusterManager().getNodes()).as("both nodes in one cluster").hasSize(2);
  }

  @AfterAll
  static void stop() throws Exception {
    for (var node : nodes) {
      await(node.close());
    }
  }

  @Test
  @Order(1)
  void anAnswerStoredThroughOneNodeIsFoundAndRemovedThroughTheOther() throws Exception {
    ClusterResponseStore one = new ClusterResponseStore(nodes.get(0).vertx(), OPTIONS);
    ClusterResponseStore other = new ClusterResponseStore(nodes.get(1).vertx(), OPTIONS);
    JsonObject stored = new JsonObject().put("response", new JsonObject().put("id", "resp_1").put("status", "completed"))
        .put("messages", new io.vertx.core.json.JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")));
    await(one.put("resp_1", stored));
    assertThat(await(other.get("resp_1"))).isEqualTo(stored);
    assertThat(await(other.remove("resp_1"))).isTrue();
    assertThat(await(one.get("resp_1"))).isNull();
    assertThat(await(one.remove("resp_1"))).as("nothing left to remove").isFalse();
    assertThat(await(one.get("resp_unknown"))).isNull();
  }

  @Test
  @Order(2)
  void anAnswerIsGoneAfterItsTimeToLive() throws Exception {
    ClusterResponseStore store = new ClusterResponseStore(nodes.get(0).vertx(), OPTIONS);
    await(store.put("resp_ttl", new JsonObject().put("response", new JsonObject())));
    assertThat(await(store.get("resp_ttl"))).isNotNull();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (await(store.get("resp_ttl")) != null && System.nanoTime() < deadline) {
      Thread.sleep(200);
    }
    assertThat(await(store.get("resp_ttl"))).as("expired after gateway.responses.ttlSeconds (2 s)").isNull();
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
      await(store.put("resp_big_" + i, new JsonObject().put("response", new JsonObject().put("text", text))));
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
      kept.append(await(store.get("resp_big_" + i)) != null ? '1' : '0');
    }
    StringBuilder early = new StringBuilder();
    for (int i = 0; i < 40; i++) {
      early.append(await(store.get("resp_big_" + i)) != null ? '1' : '0');
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

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
