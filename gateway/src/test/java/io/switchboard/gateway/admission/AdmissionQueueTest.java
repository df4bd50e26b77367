package io.switchboard.gateway.admission;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** On a Vert.x context, as in the gateway: the queue's own timers run there too. */
@ExtendWith(VertxExtension.class)
class AdmissionQueueTest {

  @Test
  void aModelsLineIsDroppedOnceNobodyWaitsInIt(Vertx vertx, VertxTestContext test) {
    vertx.runOnContext(v -> test.verify(() -> {
      AdmissionQueue queue = new AdmissionQueue(vertx, 4, 250);
      List<AdmissionQueue.Waiter> waiters = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        waiters.add(queue.enqueue("model-" + i, () -> { }, 60_000, () -> { }));
      }
      assertThat(queue.lines()).isEqualTo(1000);
      for (int i = 0; i < 500; i++) {
        waiters.get(i).leave();
      }
      for (int i = 500; i < 1000; i++) {
        queue.capacityFreed("model-" + i);
      }
      assertThat(queue.waitingByModel(Set.of("served"))).isEqualTo(Map.of("served", 0));
      assertThat(queue.lines()).isZero();
      queue.close();
      test.completeNow();
    }));
  }

  @Test
  void aHeldRequestCountsAgainstItsModelsLineButIsNotWokenWhenCapacityFrees(Vertx vertx, VertxTestContext test) {
    vertx.runOnContext(v -> test.verify(() -> {
      AdmissionQueue queue = new AdmissionQueue(vertx, 3, 250);
      List<String> woken = new ArrayList<>();
      AdmissionQueue.Waiter held = queue.hold("cold", 60_000, () -> woken.add("held timed out"));
      AdmissionQueue.Waiter second = queue.hold("cold", 60_000, () -> { });
      AdmissionQueue.Waiter waiting = queue.enqueue("cold", () -> woken.add("waiter"), 60_000, () -> { });
      AdmissionQueue.Waiter overflow = queue.hold("cold", 60_000, () -> { });
      assertThat(queue.waiting("cold")).isEqualTo(3);
      assertThat(queue.held("cold")).isEqualTo(2);
      assertThat(queue.waitingByModel(Set.of())).isEqualTo(Map.of("cold", 3));
      assertThat(overflow).as("past the line's length").isNull();

      queue.capacityFreed("cold");
      queue.capacityFreed("cold");
      held.leave();
      second.leave();
      waiting.leave();

      assertThat(woken).containsExactly("waiter");
      assertThat(queue.waiting("cold")).isZero();
      assertThat(queue.lines()).isZero();
      queue.close();
      test.completeNow();
    }));
  }

  @Test
  void aHeldRequestTimesOut(Vertx vertx, VertxTestContext test) {
    vertx.runOnContext(v -> {
      AdmissionQueue queue = new AdmissionQueue(vertx, 3, 250);
      queue.hold("cold", 100, () -> test.verify(() -> {
        assertThat(queue.waiting("cold")).as("no longer waiting once timed out").isZero();
        test.completeNow();
      }));
    });
  }
}
