package io.switchboard.gateway.admission;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.switchboard.gateway.TestFutures.await;
import static org.assertj.core.api.Assertions.assertThat;

class AdmissionQueueTest {

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    await(vertx.close());
  }

  @Test
  void aModelsLineIsDroppedOnceNobodyWaitsInIt() throws Exception {
    // On a Vert.x context, as in the gateway: the queue's own timers run there too.
    java.util.concurrent.CompletableFuture<List<Integer>> result = new java.util.concurrent.CompletableFuture<>();
    vertx.runOnContext(v -> result.complete(exercise()));
    assertThat(result.get(10, java.util.concurrent.TimeUnit.SECONDS)).containsExactly(1000, 0);
  }

  private List<Integer> exercise() {
    AdmissionQueue queue = new AdmissionQueue(vertx, 4, 250);
    List<AdmissionQueue.Waiter> waiters = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      waiters.add(queue.enqueue("model-" + i, () -> { }, 60_000, () -> { }));
    }
    int during = queue.lines();
    for (int i = 0; i < 500; i++) {
      waiters.get(i).leave();
    }
    for (int i = 500; i < 1000; i++) {
      queue.capacityFreed("model-" + i);
    }
    Map<String, Integer> waiting = queue.waitingByModel(Set.of("served"));
    queue.close();
    return List.of(during, waiting.equals(Map.of("served", 0)) ? queue.lines() : -1);
  }

  @Test
  void aHeldRequestCountsAgainstItsModelsLineButIsNotWokenWhenCapacityFrees() throws Exception {
    java.util.concurrent.CompletableFuture<List<Object>> result = new java.util.concurrent.CompletableFuture<>();
    vertx.runOnContext(v -> {
      AdmissionQueue queue = new AdmissionQueue(vertx, 3, 250);
      List<String> woken = new ArrayList<>();
      AdmissionQueue.Waiter held = queue.hold("cold", 60_000, () -> woken.add("held timed out"));
      AdmissionQueue.Waiter second = queue.hold("cold", 60_000, () -> { });
      AdmissionQueue.Waiter waiting = queue.enqueue("cold", () -> woken.add("waiter"), 60_000, () -> { });
      AdmissionQueue.Waiter overflow = queue.hold("cold", 60_000, () -> { });
      int counted = queue.waiting("cold");
      int heldCount = queue.held("cold");
      Map<String, Integer> byModel = queue.waitingByModel(Set.of());
      queue.capacityFreed("cold");
      queue.capacityFreed("cold");
      held.leave();
      second.leave();
      waiting.leave();
      result.complete(List.of(counted, heldCount, byModel, overflow == null, woken, queue.waiting("cold"),
          queue.lines()));
      queue.close();
    });
    assertThat(result.get(10, java.util.concurrent.TimeUnit.SECONDS))
        .containsExactly(3, 2, Map.of("cold", 3), true, List.of("waiter"), 0, 0);
  }

  @Test
  void aHeldRequestTimesOut() throws Exception {
    java.util.concurrent.CompletableFuture<Integer> timedOut = new java.util.concurrent.CompletableFuture<>();
    vertx.runOnContext(v -> {
      AdmissionQueue queue = new AdmissionQueue(vertx, 3, 250);
      queue.hold("cold", 100, () -> timedOut.complete(queue.waiting("cold")));
    });
    assertThat(timedOut.get(10, java.util.concurrent.TimeUnit.SECONDS)).isZero();
  }
}
