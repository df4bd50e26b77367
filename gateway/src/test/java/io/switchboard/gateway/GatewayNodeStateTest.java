package io.switchboard.gateway;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.switchboard.gateway.security.ApiKey;
import io.switchboard.gateway.security.BodyBudget;
import io.switchboard.gateway.security.KeyConcurrency;
import io.switchboard.gateway.security.OpenConnections;
import io.switchboard.gateway.config.GatewayOptions;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a node's gateway instances share: their limits hold for the node when every instance's loop uses them at
 * once, the admission queue is divided among them, a random port is shared, and the gauges are published once.
 */
class GatewayNodeStateTest {

  private final Vertx vertx = Vertx.vertx();
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

  @AfterEach
  void close() {
    vertx.close();
  }

  /** Runs {@code work} on {@code threads} threads at once, {@code rounds} times each. */
  private static void concurrently(int threads, int rounds, Runnable work) throws InterruptedException {
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> running = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread thread = new Thread(() -> {
        try {
          start.await();
        } catch (InterruptedException interrupted) {
          return;
        }
        for (int i = 0; i < rounds; i++) {
          work.run();
        }
      });
      thread.start();
      running.add(thread);
    }
    start.countDown();
    for (Thread thread : running) {
      thread.join();
    }
  }

  @Test
  void aKeysCapHoldsWhenEveryInstanceAcquiresAtOnce() throws InterruptedException {
    KeyConcurrency concurrency = new KeyConcurrency();
    ApiKey key = new ApiKey("team-a", new byte[32], Set.of(), 0, 0, 3);
    AtomicInteger holding = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    concurrently(8, 5_000, () -> {
      String counted = concurrency.tryAcquire(key);
      if (counted != null) {
        most.accumulateAndGet(holding.incrementAndGet(), Math::max);
        holding.decrementAndGet();
        concurrency.release(counted);
      }
    });
    assertThat(most.get()).isBetween(1, 3);
    assertThat(concurrency.inProgress("team-a")).isZero();
    assertThat(concurrency.snapshot().isEmpty()).isTrue();
  }

  @Test
  void theBodyBudgetAndTheConnectionCapHoldUnderContention() throws InterruptedException {
    BodyBudget budget = new BodyBudget(100);
    AtomicInteger over = new AtomicInteger();
    concurrently(8, 20_000, () -> {
      if (budget.tryReserve(30)) {
        if (budget.held() > 100) {
          over.incrementAndGet();
        }
        budget.release(30);
      }
    });
    assertThat(over.get()).isZero();
    assertThat(budget.held()).isZero();

    OpenConnections connections = new OpenConnections(4);
    AtomicInteger open = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    concurrently(8, 20_000, () -> {
      if (connections.tryOpen()) {
        most.accumulateAndGet(open.incrementAndGet(), Math::max);
        open.decrementAndGet();
        connections.closed();
      }
    });
    assertThat(most.get()).isBetween(1, 4);
    assertThat(connections.open()).isZero();
    for (int i = 0; i < 4; i++) {
      assertThat(connections.tryOpen()).isTrue();
    }
    long refusedBefore = connections.refused();
    assertThat(connections.tryOpen()).isFalse();
    assertThat(connections.refused()).isEqualTo(refusedBefore + 1);
  }

  @Test
  void eachInstanceTakesItsShareOfTheAdmissionQueueAndTheyShareARandomPort() {
    GatewayNodeState three = new GatewayNodeState(vertx, new GatewayOptions(), meters, 3);
    assertThat(three.admissionQueueShare(10)).isEqualTo(4);
    assertThat(three.admissionQueueShare(1)).isEqualTo(1);
    assertThat(three.admissionQueueShare(0)).isZero();
    assertThat(three.listenPort(8080)).isEqualTo(8080);
    assertThat(three.listenPort(0)).isNegative();
    GatewayNodeState another = new GatewayNodeState(vertx, new GatewayOptions(), meters, 2);
    assertThat(another.listenPort(0)).isNegative().isNotEqualTo(three.listenPort(0));

    GatewayNodeState one = new GatewayNodeState(vertx, new GatewayOptions(), meters, 1);
    assertThat(one.admissionQueueShare(10)).isEqualTo(10);
    assertThat(one.listenPort(0)).isZero();
  }

  @Test
  void theFirstInstancePublishesTheNodesGaugesWithEveryInstancesWaitingRequests() {
    GatewayNodeState state = new GatewayNodeState(vertx, new GatewayOptions(), meters, 2);
    GatewayNodeState.Instance first = instance(2, "m");
    GatewayNodeState.Instance second = instance(5, "m");
    state.joined(first);
    state.joined(second);

    state.publishGauges(second, List.of(), worker -> "closed", Map.of("m", 3), 1, Set.of("m"));
    assertThat(meters.find("switchboard.admission.waiting").gauge()).isNull();
    state.publishGauges(first, List.of(), worker -> "closed", Map.of("m", 2), 1, Set.of("m"));
    assertThat(meters.get("switchboard.admission.waiting").tag("model", "m").gauge().value()).isEqualTo(5.0);
    assertThat(meters.get("switchboard.streams.open").gauge().value()).isEqualTo(7.0);

    state.left(first);
    state.publishGauges(second, List.of(), worker -> "closed", Map.of("m", 1), 1, Set.of("m"));
    assertThat(meters.get("switchboard.admission.waiting").tag("model", "m").gauge().value()).isEqualTo(1.0);
    assertThat(meters.get("switchboard.streams.open").gauge().value()).isEqualTo(5.0);
  }

  private static GatewayNodeState.Instance instance(int openStreams, String model) {
    return new GatewayNodeState.Instance(() -> openStreams, model::equals);
  }
}
