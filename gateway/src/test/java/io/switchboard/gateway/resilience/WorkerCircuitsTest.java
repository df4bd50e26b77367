package io.switchboard.gateway.resilience;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class WorkerCircuitsTest {

  private final AtomicLong clock = new AtomicLong(1_000_000_000L);
  private final WorkerCircuits circuits = new WorkerCircuits(3, 1000, clock::get);

  private void advanceMs(long ms) {
    clock.addAndGet(ms * 1_000_000L);
  }

  @Test
  void opensAfterTheThresholdOfFailuresInARowAndASuccessResetsTheCount() {
    circuits.failed("w", "boom");
    circuits.failed("w", "boom");
    circuits.succeeded("w");
    circuits.failed("w", "boom");
    circuits.failed("w", "boom");
    assertThat(circuits.allows("w")).isTrue();

    assertThat(circuits.failed("w", "connection refused")).isTrue();
    assertThat(circuits.allows("w")).isFalse();
    assertThat(circuits.why("w")).contains("3 failures in a row").contains("connection refused")
        .contains("next probe in 1000 ms");
    assertThat(circuits.status("w").getString("state")).isEqualTo("open");
    assertThat(circuits.allows("other")).isTrue();
  }

  @Test
  void afterTheOpenTimeOneProbeGoesThroughAndItsOutcomeDecides() {
    for (int i = 0; i < 3; i++) {
      circuits.failed("w", "boom");
    }
    advanceMs(1000);
    assertThat(circuits.status("w").getString("state")).isEqualTo("half-open");
    assertThat(circuits.allows("w")).isTrue();
    circuits.routed("w");
    assertThat(circuits.allows("w")).as("only one probe at a time").isFalse();

    // The probe fails: open again, for twice as long.
    assertThat(circuits.failed("w", "still broken")).isTrue();
    advanceMs(1000);
    assertThat(circuits.allows("w")).isFalse();
    advanceMs(1000);
    assertThat(circuits.allows("w")).isTrue();
    circuits.routed("w");

    // This probe succeeds: closed.
    circuits.succeeded("w");
    assertThat(circuits.allows("w")).isTrue();
    assertThat(circuits.status("w").getString("state")).isEqualTo("closed");
    assertThat(circuits.why("w")).isNull();
  }

  @Test
  void aZeroThresholdNeverOpens() {
    WorkerCircuits off = new WorkerCircuits(0, 1000, clock::get);
    for (int i = 0; i < 100; i++) {
      assertThat(off.failed("w", "boom")).isFalse();
    }
    assertThat(off.allows("w")).isTrue();
  }
}
