package io.switchboard.bench.jmh;

import io.switchboard.gateway.registry.LocalInFlight;
import io.switchboard.gateway.registry.WorkerState;
import io.switchboard.gateway.routing.Pick;
import io.switchboard.gateway.routing.Route;
import io.switchboard.gateway.routing.RouteRequest;
import io.switchboard.gateway.routing.RouterOptions;
import io.switchboard.gateway.routing.WorkerRouter;
import io.switchboard.protocol.WorkerDescriptor;
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

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One routing decision among 1,000 workers, as the gateway makes it for every request: hash the prompt (for
 * prefix-aware), score the candidates (prefix-aware: those holding the prefix plus a sample, beyond 64),
 * record the decision, count the request as open, and release it. The
 * prefix index is warm: 200 tenants' system prompts, each already on a few workers, and 2,000 conversations.
 * Each pick is a new request (so its prompt is hashed) of about 3,000 characters: a tenant's 2,000-character
 * system prompt plus a conversation. Target: p99 ≤ 20 µs.
 *
 * <p>Run: {@code load-tests/bin/pick-bench} (or {@code java -jar load-tests/target/switchboard-bench.jar} with
 * the JMH main class; see the script).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class PickBenchmark {

  @Param({"prefix-aware", "least-loaded", "power-of-two", "session-affinity", "round-robin"})
  public String policy;

  @Param({"1000"})
  public int workers;

  private List<WorkerState> candidates;
  private WorkerRouter router;
  private String[] prompts;
  private String[] sessions;
  private int next;

  @Setup
  public void setUp() {
    SplittableRandom random = new SplittableRandom(42);
    candidates = new ArrayList<>();
    for (int i = 0; i < workers; i++) {
      LocalInFlight open = new LocalInFlight();
      for (int k = random.nextInt(8); k > 0; k--) {
        open.increment();
      }
      candidates.add(new WorkerState(new WorkerDescriptor(String.format("worker-%04d", i), "node-" + (i / 8), "m",
          "mocker", 8, 8192, null), null, 1, null, open));
    }
    router = new WorkerRouter(model -> policy, new RouterOptions(), System::nanoTime, null);
    String[] tenants = new String[200];
    for (int t = 0; t < tenants.length; t++) {
      tenants[t] = "system: tenant " + t + " " + text(random, 2000) + "\n";
    }
    prompts = new String[2000];
    sessions = new String[prompts.length];
    for (int s = 0; s < prompts.length; s++) {
      prompts[s] = tenants[s % tenants.length] + "user: " + text(random, 600) + "\nassistant: " + text(random, 300)
          + "\nuser: " + text(random, 100) + "\n";
      sessions[s] = "session-" + s;
    }
    // Warm the index and the session table: every conversation routed once.
    for (int s = 0; s < prompts.length; s++) {
      router.route(new RouteRequest("m", prompts[s], sessions[s]), candidates).release();
    }
  }

  @Benchmark
  public Pick pick() {
    int i = next;
    next = next + 1 == prompts.length ? 0 : next + 1;
    Route route = router.route(new RouteRequest("m", prompts[i], sessions[i]), candidates);
    route.release();
    return route.pick();
  }

  private static String text(SplittableRandom random, int chars) {
    StringBuilder text = new StringBuilder(chars);
    while (text.length() < chars) {
      text.append((char) ('a' + random.nextInt(26)));
      if (random.nextInt(6) == 0) {
        text.append(' ');
      }
    }
    return text.toString();
  }
}
