package io.switchboard.worker.discovery;

import io.switchboard.protocol.Addresses;
import io.switchboard.protocol.DiscoveryTrust;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.servicediscovery.Record;
import io.vertx.servicediscovery.ServiceDiscovery;
import io.vertx.servicediscovery.ServiceDiscoveryOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
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
  void aRecordLostInAMergeIsPublishedAgainAsSoonAsTheMergeEnds() throws Exception {
    // Checks every minute: only the end of the merge can bring the record back within the test.
    PublishedRecord published = new PublishedRecord(vertx, discovery, "worker w1", DiscoveryTrust.unclustered(),
        60_000);
    await(published.publish(record()));
    vertx.eventBus().publish(Addresses.CLUSTER_MERGE_LOCAL, Addresses.MERGE_STARTED);
    await(discovery.unpublish(records().get(0).getRegistration()));

    vertx.eventBus().publish(Addresses.CLUSTER_MERGE_LOCAL, Addresses.MERGE_ENDED);

    waitUntil(() -> records().size() == 1);
    assertThat(records()).as("published again right after the merge").hasSize(1);
    await(published.unpublish());
    vertx.eventBus().publish(Addresses.CLUSTER_MERGE_LOCAL, Addresses.MERGE_ENDED);
    Thread.sleep(200);
    assertThat(records()).as("a withdrawn record is not brought back by a merge").isEmpty();
  }

  @Test
  void whileTheNodeMergesALostRecordIsNotPublishedAgainSoNoSecondCopyAppears() throws Exception {
    PublishedRecord published = new PublishedRecord(vertx, discovery, "worker w1", DiscoveryTrust.unclustered(),
        100);
    await(published.publish(record()));
    vertx.eventBus().publish(Addresses.CLUSTER_MERGE_LOCAL, Addresses.MERGE_STARTED);
    Thread.sleep(50);
    // The merge takes the record away and brings it back (the copy this node held) once it has joined.
    Record held = records().get(0);
    await(discovery.unpublish(held.getRegistration()));
    Thread.sleep(400);
    assertThat(records()).as("not published again while merging").isEmpty();
    await(discovery.publish(new Record(held.toJson()).setRegistration(null)));

    vertx.eventBus().publish(Addresses.CLUSTER_MERGE_LOCAL, Addresses.MERGE_ENDED);
    Thread.sleep(400);

    assertThat(records()).hasSize(1);
  }

  @Test
  void afterAMergeTheRecordIsAnnouncedAgainAndOtherCopiesOfItAreRemoved() throws Exception {
    PublishedRecord published = new PublishedRecord(vertx, discovery, "worker w1", DiscoveryTrust.unclustered(),
        60_000);
    await(published.publish(record()));
    String ours = records().get(0).getRegistration();
    // A second copy, as a check racing a merge could leave.
    await(discovery.publish(record()));
    List<JsonObject> announced = new CopyOnWriteArrayList<>();
    vertx.eventBus().<JsonObject>consumer(new ServiceDiscoveryOptions().getAnnounceAddress(),
        message -> announced.add(message.body()));

    vertx.eventBus().publish(Addresses.CLUSTER_MERGE_LOCAL, Addresses.MERGE_ENDED);

    waitUntil(() -> announced.stream().anyMatch(a -> "UP".equals(a.getString("status"))) && records().size() == 1);
    assertThat(records()).extracting(Record::getRegistration).containsExactly(ours);
    // Gateways learn it is there without waiting for their next full read of discovery.
    assertThat(announced).anySatisfy(a -> {
      assertThat(a.getString("status")).isEqualTo("UP");
      assertThat(a.getJsonObject("metadata").getString("workerId")).isEqualTo("w1");
    });
  }

  private interface Check {
    boolean ok() throws Exception;
  }

  private static void waitUntil(Check check) throws Exception {
    long until = System.currentTimeMillis() + 2_000;
    while (!check.ok() && System.currentTimeMillis() < until) {
      Thread.sleep(20);
    }
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
