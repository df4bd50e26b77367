package io.switchboard.worker.discovery;

import io.switchboard.protocol.Addresses;
import io.switchboard.protocol.DiscoveryTrust;
import io.switchboard.testsupport.Eventually;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.servicediscovery.Record;
import io.vertx.servicediscovery.ServiceDiscovery;
import io.vertx.servicediscovery.ServiceDiscoveryOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static java.time.Duration.ofSeconds;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A record the worker keeps published, against this Vert.x instance's discovery. Where a test shows that something
 * does not happen (a second copy, a record brought back) it gives the record's periodic check real time to run:
 * several periods, since the check runs on a Vert.x timer.
 */
@ExtendWith(VertxExtension.class)
class PublishedRecordTest {

  private Vertx vertx;
  private ServiceDiscovery discovery;

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    discovery = ServiceDiscovery.create(vertx);
  }

  @AfterEach
  void tearDown() {
    discovery.close();
  }

  private List<Record> records() throws Exception {
    return discovery.getRecords(r -> "test-type".equals(r.getType())).await(10, SECONDS);
  }

  private static Record record() {
    return new Record().setType("test-type").setName("w1").setMetadata(new io.vertx.core.json.JsonObject()
        .put("workerId", "w1"));
  }

  @Test
  void aRecordLostWhileTheNodeLivesIsPublishedAgain() throws Exception {
    PublishedRecord published = new PublishedRecord(vertx, discovery, "worker w1", DiscoveryTrust.unclustered(),
        100);
    published.publish(record()).await(10, SECONDS);
    String first = records().get(0).getRegistration();

    // What a cluster merge does to the merging node's records.
    discovery.unpublish(first).await(10, SECONDS);
    assertThat(records()).isEmpty();

    Eventually.within(ofSeconds(5), "the record is published again", () -> !records().isEmpty());
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
    published.publish(record()).await(10, SECONDS);
    Record stored = records().get(0);

    // What a process that joined the cluster can do: rewrite the record under the same registration.
    discovery.update(new Record(stored.toJson()).setLocation(new io.vertx.core.json.JsonObject()
        .put("eventbus", "switchboard.worker.rogue.generate"))).await(10, SECONDS);
    assertThat(records().get(0).getLocation().getString("eventbus")).isEqualTo("switchboard.worker.rogue.generate");

    Eventually.within(ofSeconds(5), "the rewritten record is put back", () -> records().isEmpty()
        || records().get(0).getLocation() == null || !records().get(0).getLocation().containsKey("eventbus"));
    assertThat(records()).hasSize(1);
    assertThat(records().get(0).getLocation()).as("the published content again").isEqualTo(stored.getLocation());
    assertThat(records().get(0).getMetadata().getString("workerId")).isEqualTo("w1");
  }

  @Test
  void aRecordLostInAMergeIsPublishedAgainAsSoonAsTheMergeEnds() throws Exception {
    // Checks every minute: only the end of the merge can bring the record back within the test.
    PublishedRecord published = new PublishedRecord(vertx, discovery, "worker w1", DiscoveryTrust.unclustered(),
        60_000);
    published.publish(record()).await(10, SECONDS);
    vertx.eventBus().publish(Addresses.CLUSTER_MERGE_LOCAL, Addresses.MERGE_STARTED);
    discovery.unpublish(records().get(0).getRegistration()).await(10, SECONDS);

    vertx.eventBus().publish(Addresses.CLUSTER_MERGE_LOCAL, Addresses.MERGE_ENDED);

    Eventually.within(ofSeconds(2), "published again right after the merge", () -> records().size() == 1);
    published.unpublish().await(10, SECONDS);
    vertx.eventBus().publish(Addresses.CLUSTER_MERGE_LOCAL, Addresses.MERGE_ENDED);
    Thread.sleep(200);
    assertThat(records()).as("a withdrawn record is not brought back by a merge").isEmpty();
  }

  @Test
  void whileTheNodeMergesALostRecordIsNotPublishedAgainSoNoSecondCopyAppears() throws Exception {
    PublishedRecord published = new PublishedRecord(vertx, discovery, "worker w1", DiscoveryTrust.unclustered(),
        100);
    published.publish(record()).await(10, SECONDS);
    vertx.eventBus().publish(Addresses.CLUSTER_MERGE_LOCAL, Addresses.MERGE_STARTED);
    // The record hears of the merge over the event bus: real time for the message to reach it.
    Thread.sleep(50);
    // The merge takes the record away and brings it back (the copy this node held) once it has joined.
    Record held = records().get(0);
    discovery.unpublish(held.getRegistration()).await(10, SECONDS);
    Thread.sleep(400);
    assertThat(records()).as("not published again while merging").isEmpty();
    discovery.publish(new Record(held.toJson()).setRegistration(null)).await(10, SECONDS);

    vertx.eventBus().publish(Addresses.CLUSTER_MERGE_LOCAL, Addresses.MERGE_ENDED);
    Thread.sleep(400);

    assertThat(records()).hasSize(1);
  }

  @Test
  void afterAMergeTheRecordIsAnnouncedAgainAndOtherCopiesOfItAreRemoved() throws Exception {
    PublishedRecord published = new PublishedRecord(vertx, discovery, "worker w1", DiscoveryTrust.unclustered(),
        60_000);
    published.publish(record()).await(10, SECONDS);
    String ours = records().get(0).getRegistration();
    // A second copy, as a check racing a merge could leave.
    discovery.publish(record()).await(10, SECONDS);
    List<JsonObject> announced = new CopyOnWriteArrayList<>();
    vertx.eventBus().<JsonObject>consumer(new ServiceDiscoveryOptions().getAnnounceAddress(),
        message -> announced.add(message.body()));

    vertx.eventBus().publish(Addresses.CLUSTER_MERGE_LOCAL, Addresses.MERGE_ENDED);

    Eventually.within(ofSeconds(2), "announced again, one copy left",
        () -> announced.stream().anyMatch(a -> "UP".equals(a.getString("status"))) && records().size() == 1);
    assertThat(records()).extracting(Record::getRegistration).containsExactly(ours);
    // Gateways learn it is there without waiting for their next full read of discovery.
    assertThat(announced).anySatisfy(a -> {
      assertThat(a.getString("status")).isEqualTo("UP");
      assertThat(a.getJsonObject("metadata").getString("workerId")).isEqualTo("w1");
    });
  }

  @Test
  void anUnpublishedRecordStaysWithdrawn() throws Exception {
    PublishedRecord published = new PublishedRecord(vertx, discovery, "worker w1", DiscoveryTrust.unclustered(),
        100);
    published.publish(record()).await(10, SECONDS);

    published.unpublish().await(10, SECONDS);
    Thread.sleep(400);

    assertThat(records()).isEmpty();
    assertThat(published.published()).isFalse();
  }
}
