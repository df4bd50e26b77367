package io.switchboard.gateway.resilience;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class WorkerCircuitsTest {

  private static final long PROBE_TIMEOUT_MS = 5000;
  private final AtomicLong clock = new AtomicLong(1_000_000_000L);
  private final Set<String> known = new HashSet<>(Set.of("w", "other"));
  private final WorkerCircuits circuits = new WorkerCircuits(3, 1000, PROBE_TIMEOUT_MS, clock::get, known::contains);

  private void advanceMs(long ms) {
    clock.addAndGet(ms * 1_000_000L);
  }

  private void failTimes(int times) {
    for (int i = 0; i < times; i++) {
      circuits.routed("w").failed("boom");
    }
  }

  /** Opens the circuit and waits out its open time: the next request is its probe. */
  private WorkerCircuits.Permit halfOpenAndProbe() {
    failTimes(3);
    advanceMs(1000);
    assertThat(circuits.status("w").getString("state")).isEqualTo("half-open");
    assertThat(circuits.allows("w")).isTrue();
    WorkerCircuits.Permit probe = circuits.routed("w");
    assertThat(probe.probe()).isTrue();
    assertThat(circuits.allows("w")).as("only one probe at a time").isFalse();
    return probe;
  }

  @Test
  void opensAfterTheThresholdOfFailuresInARowAndASuccessResetsTheCount() {
    failTimes(2);
    circuits.routed("w").succeeded();
    failTimes(2);
    assertThat(circuits.allows("w")).isTrue();

    assertThat(circuits.routed("w").failed("connection refused")).isTrue();
    assertThat(circuits.allows("w")).isFalse();
    assertThat(circuits.why("w")).contains("3 failures in a row").contains("connection refused")
        .contains("next probe in 1000 ms");
    assertThat(circuits.status("w").getString("state")).isEqualTo("open");
    assertThat(circuits.allows("other")).isTrue();
  }

  @Test
  void afterTheOpenTimeOneProbeGoesThroughAndItsOutcomeDecides() {
    WorkerCircuits.Permit probe = halfOpenAndProbe();

    // The probe fails: open again, for twice as long.
    assertThat(probe.failed("still broken")).isTrue();
    advanceMs(1000);
    assertThat(circuits.allows("w")).isFalse();
    advanceMs(1000);
    assertThat(circuits.allows("w")).isTrue();

    // This probe succeeds: closed.
    circuits.routed("w").succeeded();
    assertThat(circuits.allows("w")).isTrue();
    assertThat(circuits.status("w").getString("state")).isEqualTo("closed");
    assertThat(circuits.why("w")).isNull();
    assertThat(circuits.size()).isZero();
  }

  @Test
  void aProbeThatEndsWithoutAVerdictLetsTheNextRequestProbe() {
    WorkerCircuits.Permit busy = halfOpenAndProbe();
    busy.released("the last probe ended WORKER_BUSY");
    assertThat(circuits.allows("w")).as("after a probe the worker refused as busy").isTrue();
    assertThat(circuits.why("w")).contains("the next request will probe it").contains("WORKER_BUSY");

    WorkerCircuits.Permit cancelled = circuits.routed("w");
    assertThat(cancelled.probe()).isTrue();
    assertThat(circuits.allows("w")).isFalse();
    cancelled.released("the client went away");
    assertThat(circuits.allows("w")).as("after a probe whose client went away").isTrue();

    // Released without a verdict: still open (no backoff added), and the next probe decides.
    assertThat(circuits.status("w").getString("state")).isEqualTo("half-open");
    circuits.routed("w").succeeded();
    assertThat(circuits.status("w").getString("state")).isEqualTo("closed");
  }

  @Test
  void aProbeThatNeverReportsIsGivenUpAfterTheProbeTimeout() {
    halfOpenAndProbe();
    advanceMs(PROBE_TIMEOUT_MS - 1);
    assertThat(circuits.allows("w")).isFalse();
    assertThat(circuits.why("w")).contains("a probe request is under way");
    advanceMs(1);
    assertThat(circuits.allows("w")).as("a probe silent for the probe timeout is given up").isTrue();
    assertThat(circuits.why("w")).contains("sent no verdict within 5000 ms");
    assertThat(circuits.routed("w").probe()).isTrue();
  }

  @Test
  void aProbeTheWorkerAnswersClosesTheCircuitAtItsFirstToken() {
    WorkerCircuits.Permit probe = halfOpenAndProbe();
    probe.answered();
    assertThat(circuits.status("w").getString("state")).isEqualTo("closed");
    assertThat(circuits.allows("w")).isTrue();
    // The same request failing later is one failure in a row, not a failed probe.
    assertThat(probe.failed("broke mid-answer")).isFalse();
    assertThat(circuits.allows("w")).isTrue();
    assertThat(circuits.status("w").getInteger("consecutiveFailures")).isEqualTo(1);
  }

  @Test
  void aPermitEndsOnceLaterOutcomesAreIgnored() {
    WorkerCircuits.Permit probe = halfOpenAndProbe();
    assertThat(probe.failed("still broken")).isTrue();
    probe.released();
    probe.succeeded();
    assertThat(circuits.status("w").getString("state")).as("the failure counted, nothing after it").isEqualTo("open");

    // The next probe is released, then reported as failed: only the release counts.
    advanceMs(2000);
    WorkerCircuits.Permit next = circuits.routed("w");
    circuits.routed("other").failed("unrelated");
    next.released();
    next.failed("ignored: already released");
    assertThat(circuits.allows("w")).isTrue();
    assertThat(circuits.status("w").getInteger("consecutiveFailures")).isEqualTo(4);
  }

  @Test
  void aDepartedWorkerLeavesNoCircuitBehind() {
    WorkerCircuits.Permit inFlight = circuits.routed("w");
    failTimes(3);
    assertThat(circuits.size()).isEqualTo(1);

    known.remove("w");
    circuits.forget("w");
    assertThat(circuits.size()).isZero();
    // A request that was under way when it left fails afterwards: no circuit for a worker no longer known.
    assertThat(inFlight.failed("it left")).isFalse();
    assertThat(circuits.size()).isZero();
    assertThat(circuits.status("w").getString("state")).isEqualTo("closed");

    // Workers that come and go leave nothing behind.
    for (int i = 0; i < 1000; i++) {
      String id = "churn-" + i;
      known.add(id);
      circuits.routed(id).failed("boom");
      known.remove(id);
      circuits.forget(id);
    }
    assertThat(circuits.size()).isZero();
  }

  @Test
  void aZeroThresholdNeverOpens() {
    WorkerCircuits off = new WorkerCircuits(0, 1000, PROBE_TIMEOUT_MS, clock::get, id -> true);
    for (int i = 0; i < 100; i++) {
      assertThat(off.routed("w").failed("boom")).isFalse();
    }
    assertThat(off.allows("w")).isTrue();
    assertThat(off.size()).isZero();
  }
}
