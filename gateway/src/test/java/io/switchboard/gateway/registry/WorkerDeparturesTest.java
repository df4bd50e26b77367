package io.switchboard.gateway.registry;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class WorkerDeparturesTest {

  private final AtomicLong now = new AtomicLong(100_000);
  private final WorkerDepartures departures = new WorkerDepartures(2, now::get);

  @Test
  void theLatestDepartureOfAModelsWorkerSaysWhoWhereWhenAndWhy() {
    departures.departed("w1", List.of("m"), "node-a", "its discovery record is gone");
    now.addAndGet(12_000);

    var last = departures.lastServing("m").orElseThrow();
    assertThat(departures.describe(last)).isEqualTo("worker w1 on node node-a left 12 s ago: its discovery record is gone");
    assertThat(departures.lastServing("other")).isEmpty();
  }

  @Test
  void theNodeLeavingIsTheReasonEvenWhenTheRecordWasMissedFirst() {
    departures.departed("w1", List.of("m"), "node-a", "its discovery record is gone");
    departures.nodeLeft("node-a", "node node-a left the cluster");

    assertThat(departures.lastServing("m").orElseThrow().reason()).isEqualTo("node node-a left the cluster");
  }

  @Test
  void aWorkerThatWithdrewBeforeItsNodeLeftKeepsThatReason() {
    departures.departed("w1", List.of("m"), "node-a", "it withdrew its discovery record (draining or stopped)");
    departures.nodeLeft("node-a", "node node-a left the cluster");

    assertThat(departures.lastServing("m").orElseThrow().reason()).startsWith("it withdrew");
  }

  @Test
  void aWorkerThatReturnsIsForgottenAndOnlyTheNewestAreKept() {
    departures.departed("w1", List.of("m1"), "n", "gone");
    departures.returned("w1");
    assertThat(departures.lastServing("m1")).isEmpty();

    departures.departed("w2", List.of("m2"), "n", "gone");
    departures.departed("w3", List.of("m3"), "n", "gone");
    departures.departed("w4", List.of("m4"), "n", "gone");
    assertThat(departures.lastServing("m2")).isEmpty();
    assertThat(departures.toJson()).hasSize(2);
  }
}
