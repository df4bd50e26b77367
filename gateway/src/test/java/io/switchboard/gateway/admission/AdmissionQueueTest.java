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
}
