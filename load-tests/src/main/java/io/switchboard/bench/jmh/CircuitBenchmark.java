package io.switchboard.bench.jmh;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.core.IntervalFunction;
import io.switchboard.gateway.resilience.WorkerCircuits;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What a request costs the gateway's circuit breakers on its usual path, every circuit closed: each candidate
 * worker of the model is checked ({@code allows}), the chosen one is routed to (a permit), it answers (first token)
 * and succeeds. Switchboard's {@link WorkerCircuits} against resilience4j's {@link CircuitBreaker} configured to the
 * same behaviour (count window of 5 all failed = 5 failures in a row, one half-open permit, exponential backoff
 * 10 s to 80 s, a half-open wait bound), one breaker per worker in a map, as the gateway would hold them.
 *
 * <p>Run: {@code load-tests/bin/circuit-bench}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class CircuitBenchmark {

  @Param({"1", "8"})
  public int candidates;

  private String[] workers;
  private WorkerCircuits circuits;
  private Map<String, CircuitBreaker> breakers;
  private int next;

  @Setup
  public void setUp() {
    workers = new String[candidates];
    for (int i = 0; i < candidates; i++) {
      workers[i] = "worker-" + i;
    }
    circuits = new WorkerCircuits(5, 10_000, 66_000, System::nanoTime, id -> true);
    CircuitBreakerConfig config = CircuitBreakerConfig.custom()
        .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
        .slidingWindowSize(5)
        .minimumNumberOfCalls(5)
        .failureRateThreshold(100)
        .permittedNumberOfCallsInHalfOpenState(1)
        .waitIntervalFunctionInOpenState(IntervalFunction.ofExponentialBackoff(10_000, 2, 80_000))
        .maxWaitDurationInHalfOpenState(Duration.ofSeconds(66))
        .automaticTransitionFromOpenToHalfOpenEnabled(false)
        .build();
    breakers = new HashMap<>();
    for (String worker : workers) {
      breakers.put(worker, CircuitBreaker.of(worker, config));
    }
  }

  private String pick() {
    int i = next;
    next = next + 1 == workers.length ? 0 : next + 1;
    return workers[i];
  }

  @Benchmark
  public void switchboard(Blackhole hole) {
    for (String worker : workers) {
      hole.consume(circuits.allows(worker));
    }
    WorkerCircuits.Permit permit = circuits.routed(pick());
    permit.answered();
    permit.succeeded();
  }

  @Benchmark
  public void resilience4j(Blackhole hole) {
    for (String worker : workers) {
      hole.consume(breakers.get(worker).getState() != CircuitBreaker.State.OPEN);
    }
    CircuitBreaker breaker = breakers.get(pick());
    long start = breaker.getCurrentTimestamp();
    hole.consume(breaker.tryAcquirePermission());
    breaker.onSuccess(breaker.getCurrentTimestamp() - start, breaker.getTimestampUnit());
  }
}
