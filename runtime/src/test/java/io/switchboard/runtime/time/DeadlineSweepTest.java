package io.switchboard.runtime.time;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class DeadlineSweepTest {

  private final Vertx vertx = Vertx.vertx();
  private final Context context = vertx.getOrCreateContext();

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private <T> T on(java.util.function.Supplier<T> action) throws Exception {
    CompletableFuture<T> result = new CompletableFuture<>();
    context.runOnContext(v -> result.complete(action.get()));
    return result.get(5, TimeUnit.SECONDS);
  }

  @Test
  void anExpiredDeadlineRunsOnceNoEarlierThanItsDelayAndAtMostAPeriodLate() throws Exception {
    DeadlineSweep sweep = on(() -> new DeadlineSweep(vertx, 20));
    CompletableFuture<Long> ranAfterMs = new CompletableFuture<>();
    List<String> runs = new CopyOnWriteArrayList<>();
    long start = System.nanoTime();

    on(() -> sweep.watch(150, () -> {
      runs.add("ran");
      ranAfterMs.complete((System.nanoTime() - start) / 1_000_000);
    }));

    assertThat(ranAfterMs.get(5, TimeUnit.SECONDS)).isGreaterThanOrEqualTo(150);
    Thread.sleep(100);
    assertThat(runs).containsExactly("ran");
    assertThat(on(sweep::pending)).isZero();
  }

  @Test
  void aCancelledDeadlineNeverRunsAndAPostponedOneRunsLater() throws Exception {
    DeadlineSweep sweep = on(() -> new DeadlineSweep(vertx, 10));
    List<String> runs = new CopyOnWriteArrayList<>();
    DeadlineSweep.Deadline cancelled = on(() -> sweep.watch(50, () -> runs.add("cancelled")));
    DeadlineSweep.Deadline postponed = on(() -> sweep.watch(50, () -> runs.add("postponed")));
    on(() -> sweep.watch(50, () -> runs.add("plain")));
    on(() -> {
      cancelled.cancel();
      cancelled.cancel();
      return null;
    });

    Thread.sleep(30);
    on(() -> {
      postponed.postpone(200);
      return null;
    });
    Thread.sleep(120);
    assertThat(runs).containsExactly("plain");
    Thread.sleep(250);
    assertThat(runs).containsExactly("plain", "postponed");
    assertThat(on(sweep::pending)).isZero();
  }

  @Test
  void anActionMayWatchAgainAndStopCancelsEverything() throws Exception {
    DeadlineSweep sweep = on(() -> new DeadlineSweep(vertx, 10));
    List<String> runs = new CopyOnWriteArrayList<>();
    on(() -> sweep.watch(20, () -> {
      runs.add("first");
      sweep.watch(20, () -> runs.add("second"));
    }));
    Thread.sleep(200);
    assertThat(runs).containsExactly("first", "second");

    on(() -> sweep.watch(100, () -> runs.add("never")));
    on(() -> {
      sweep.stop();
      return null;
    });
    Thread.sleep(200);
    assertThat(runs).containsExactly("first", "second");
  }
}
