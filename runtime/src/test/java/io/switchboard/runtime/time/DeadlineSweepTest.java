package io.switchboard.runtime.time;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sweep on a clock the test moves by hand: a deadline expires when the test says that its delay has passed, and
 * the sweep's own periodic check (every millisecond of real time) finds it. "The next sweep has run" is a deadline
 * due now that completes a future: deadlines run in the order they were watched, so by then every deadline that was
 * due has run too.
 */
@ExtendWith(VertxExtension.class)
class DeadlineSweepTest {

  private final AtomicLong nowNanos = new AtomicLong();

  private void advanceMs(long ms) {
    nowNanos.addAndGet(ms * 1_000_000);
  }

  private DeadlineSweep sweepOnManualClock(Vertx vertx) {
    return new DeadlineSweep(vertx, 1, nowNanos::get);
  }

  private static Future<Void> nextSweep(DeadlineSweep sweep) {
    Promise<Void> swept = Promise.promise();
    sweep.watch(0, swept::complete);
    return swept.future();
  }

  @Test
  void aDeadlineRunsOnceWhenItsDelayHasPassedAndNotBefore(Vertx vertx, VertxTestContext test) {
    vertx.runOnContext(v -> {
      DeadlineSweep sweep = sweepOnManualClock(vertx);
      List<String> runs = new ArrayList<>();
      sweep.watch(150, () -> runs.add("ran"));

      advanceMs(149);
      nextSweep(sweep).compose(swept -> {
        test.verify(() -> assertThat(runs).as("a millisecond early").isEmpty());
        advanceMs(1);
        return nextSweep(sweep);
      }).compose(swept -> {
        test.verify(() -> assertThat(runs).containsExactly("ran"));
        return nextSweep(sweep);
      }).onComplete(test.succeeding(swept -> test.verify(() -> {
        assertThat(runs).as("once").containsExactly("ran");
        assertThat(sweep.pending()).isZero();
        test.completeNow();
      })));
    });
  }

  @Test
  void aCancelledDeadlineNeverRunsAndAPostponedOneRunsLater(Vertx vertx, VertxTestContext test) {
    vertx.runOnContext(v -> {
      DeadlineSweep sweep = sweepOnManualClock(vertx);
      List<String> runs = new ArrayList<>();
      DeadlineSweep.Deadline cancelled = sweep.watch(50, () -> runs.add("cancelled"));
      DeadlineSweep.Deadline postponed = sweep.watch(50, () -> runs.add("postponed"));
      sweep.watch(50, () -> runs.add("plain"));
      cancelled.cancel();
      cancelled.cancel();

      advanceMs(30);
      postponed.postpone(200);
      advanceMs(120);
      nextSweep(sweep).compose(swept -> {
        test.verify(() -> assertThat(runs).containsExactly("plain"));
        advanceMs(79);
        return nextSweep(sweep);
      }).compose(swept -> {
        test.verify(() -> assertThat(runs).as("a millisecond before the postponed deadline").containsExactly("plain"));
        advanceMs(1);
        return nextSweep(sweep);
      }).onComplete(test.succeeding(swept -> test.verify(() -> {
        assertThat(runs).containsExactly("plain", "postponed");
        assertThat(sweep.pending()).isZero();
        test.completeNow();
      })));
    });
  }

  @Test
  void anActionMayWatchAgainAndStopCancelsEverything(Vertx vertx, VertxTestContext test) {
    vertx.runOnContext(v -> {
      DeadlineSweep sweep = sweepOnManualClock(vertx);
      List<String> runs = new ArrayList<>();
      sweep.watch(20, () -> {
        runs.add("first");
        sweep.watch(20, () -> runs.add("second"));
      });

      advanceMs(20);
      nextSweep(sweep).compose(swept -> {
        test.verify(() -> assertThat(runs).containsExactly("first"));
        advanceMs(20);
        return nextSweep(sweep);
      }).onComplete(test.succeeding(swept -> {
        test.verify(() -> assertThat(runs).containsExactly("first", "second"));
        sweep.watch(100, () -> runs.add("cancelled by stop"));
        sweep.stop();
        sweep.watch(0, () -> runs.add("watched after stop"));
        advanceMs(1_000);
        // Nothing to wait for once the sweep has stopped: a few real milliseconds (many periods) in which a
        // sweep that still ran would have run both.
        vertx.setTimer(20, id -> test.verify(() -> {
          assertThat(runs).containsExactly("first", "second");
          test.completeNow();
        }));
      }));
    });
  }
}
