package io.switchboard.worker;

import io.switchboard.protocol.DiscoveryTrust;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.servicediscovery.Record;
import io.vertx.servicediscovery.ServiceDiscovery;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class PublishedRecordTest {

  private Vertx vertx;
  private ServiceDiscovery discovery;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    discovery = ServiceDiscovery.create(vertx);
  }

  @AfterEach
  void tearDown() throws Exception {
    discovery.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private List<Record> records() throws Exception {
    return await(discovery.getRecords(r -> "test-type".equals(r.getType())));
  }

  private static Record record() {
    return new Record().setType("test-type").setName("w1").setMetadata(new io.vertx.core.json.JsonObject()
        .put("workerId", "w1"));
  }

  @Test
  void aRecordLostWhileTheNodeLivesIsPublishedAgain() throws Exception {
    PublishedRecord published = new PublishedRecord(vertx, discovery, "worker w1", DiscoveryTrust.unclustered(),
        100);
    await(published.publish(record()));
    String first = records().get(0).getRegistration();

    // What a cluster merge does to the merging node's records.
    await(discovery.unpublish(first));
    assertThat(records()).isEmpty();

    long until = System.currentTimeMillis() + 5_000;
    while (records().isEmpty() && System.currentTimeMillis() < until) {
      Thread.sleep(50);
    }
    assertThat(records()).hasSize(1);
    assertThat(records().get(0).getMetadata().getString("workerId")).isEqualTo("w1");
    assertThat(records().get(0).getRegistration()).isNotEqualTo(first);
    Thread.sleep(300);
    assertThat(records()).as("published again once, not once per check").hasSize(1);
  }

  @Test
  void aRecordChangedInPlaceByAnotherProcessIsPutBack() throws Exception {
    PublishedRecord published = new PublishedRecord(vertx, discovery, "worker w1", DiscoveryTrust.unclustered(),
        100);
    await(published.publish(record()));
    Record stored = records().get(0);

    // What a process that joined the cluster can do: rewrite the record under the same registration.
    await(discovery.update(new Record(stored.toJson()).setLocation(new io.vertx.core.json.JsonObject()
        .put("eventbus", "switchboard.worker.rogue.generate"))));
    assertThat(records().get(0).getLocation().getString("eventbus")).isEqualTo("switchboard.worker.rogue.generate");

    long until = System.currentTimeMillis() + 5_000;
    while (!records().isEmpty() && records().get(0).getLocation() != null
        && records().get(0).getLocation().containsKey("eventbus") && System.currentTimeMillis() < until) {
      Thread.sleep(50);
    }
    assertThat(records()).hasSize(1);
    assertThat(records().get(0).getLocation()).as("the published content again").isEqualTo(stored.getLocation());
    assertThat(records().get(0).getMetadata().getString("workerId")).isEqualTo("w1");
  }

  @Test
  void anUnpublishedRecordStaysWithdrawn() throws Exception {
    PublishedRecord published = new PublishedRecord(vertx, discovery, "worker w1", DiscoveryTrust.unclustered(),
        100);
    await(published.publish(record()));

    await(published.unpublish());
    Thread.sleep(400);

    assertThat(records()).isEmpty();
    assertThat(published.published()).isFalse();
  }
}
