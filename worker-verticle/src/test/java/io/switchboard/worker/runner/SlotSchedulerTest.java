package io.switchboard.worker.runner;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SlotSchedulerTest {

  private final List<String> started = new ArrayList<>();

  private Runnable job(String name) {
    return () -> started.add(name);
  }

  @Test
  void runsAtOnceWhileSlotsAreFree() {
    SlotScheduler scheduler = new SlotScheduler(2, 5);

    assertThat(scheduler.wouldQueue()).isFalse();
    assertThat(scheduler.admit(job("a"))).isTrue();
    assertThat(scheduler.admit(job("b"))).isTrue();

    assertThat(started).containsExactly("a", "b");
    assertThat(scheduler.running()).isEqualTo(2);
    assertThat(scheduler.free()).isZero();
    assertThat(scheduler.queued()).isZero();
    assertThat(scheduler.slots()).isEqualTo(2);
  }

  @Test
  void queuesUpToMaxQueueThenRefuses() {
    SlotScheduler scheduler = new SlotScheduler(1, 2);
    scheduler.admit(job("a"));

    assertThat(scheduler.wouldQueue()).isTrue();
    assertThat(scheduler.admit(job("b"))).isTrue();
    assertThat(scheduler.admit(job("c"))).isTrue();
    assertThat(scheduler.admit(job("d"))).isFalse();

    assertThat(started).containsExactly("a");
    assertThat(scheduler.running()).isEqualTo(1);
    assertThat(scheduler.queued()).isEqualTo(2);
  }

  @Test
  void zeroMaxQueueRefusesAsSoonAsTheSlotsAreBusy() {
    SlotScheduler scheduler = new SlotScheduler(1, 0);

    assertThat(scheduler.admit(job("a"))).isTrue();
    assertThat(scheduler.admit(job("b"))).isFalse();
    assertThat(started).containsExactly("a");
  }

  @Test
  void releaseStartsTheOldestQueued() {
    SlotScheduler scheduler = new SlotScheduler(1, 3);
    scheduler.admit(job("a"));
    scheduler.admit(job("b"));
    scheduler.admit(job("c"));

    scheduler.release();
    assertThat(started).containsExactly("a", "b");
    assertThat(scheduler.running()).isEqualTo(1);
    assertThat(scheduler.queued()).isEqualTo(1);

    scheduler.release();
    assertThat(started).containsExactly("a", "b", "c");
    assertThat(scheduler.queued()).isZero();

    scheduler.release();
    assertThat(scheduler.running()).isZero();
    assertThat(scheduler.free()).isEqualTo(1);
    assertThat(scheduler.wouldQueue()).isFalse();
  }

  @Test
  void releaseMakesRoomForANewAdmission() {
    SlotScheduler scheduler = new SlotScheduler(1, 0);
    scheduler.admit(job("a"));
    assertThat(scheduler.admit(job("b"))).isFalse();

    scheduler.release();

    assertThat(scheduler.admit(job("c"))).isTrue();
    assertThat(started).containsExactly("a", "c");
  }

  @Test
  void dequeueRemovesAWaitingStartSoItNeverRuns() {
    SlotScheduler scheduler = new SlotScheduler(1, 3);
    Runnable b = job("b");
    scheduler.admit(job("a"));
    scheduler.admit(b);
    scheduler.admit(job("c"));

    assertThat(scheduler.dequeue(b)).isTrue();
    assertThat(scheduler.queued()).isEqualTo(1);
    assertThat(scheduler.dequeue(b)).isFalse();

    scheduler.release();
    scheduler.release();
    assertThat(started).containsExactly("a", "c");
  }

  @Test
  void aStartThatEndsAtOnceCanReleaseInsideAdmit() {
    SlotScheduler scheduler = new SlotScheduler(1, 1);
    Runnable instant = () -> {
      started.add("instant");
      scheduler.release();
    };

    assertThat(scheduler.admit(instant)).isTrue();

    assertThat(started).containsExactly("instant");
    assertThat(scheduler.running()).isZero();
    assertThat(scheduler.free()).isEqualTo(1);
  }
}
