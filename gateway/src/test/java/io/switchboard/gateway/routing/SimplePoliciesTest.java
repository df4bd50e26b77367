package io.switchboard.gateway.routing;

import io.switchboard.gateway.registry.WorkerState;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static io.switchboard.gateway.routing.Workers.idle;
import static io.switchboard.gateway.routing.Workers.picks;
import static io.switchboard.gateway.routing.Workers.request;
import static io.switchboard.gateway.routing.Workers.worker;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Round-robin, random, least-loaded and power-of-two choices: what each picks, pinned. */
class SimplePoliciesTest {

  @Test
  void roundRobinCyclesThroughTheCandidatesInOrderWhateverTheirLoad() {
    List<WorkerState> workers = List.of(worker("a", 8, 7), worker("b"), worker("c"));

    assertThat(picks(new RoundRobinPolicy(), request("hi"), workers, 7))
        .containsExactly("a", "b", "c", "a", "b", "c", "a");
  }

  @Test
  void roundRobinCopesWithAShrinkingCandidateList() {
    RoundRobinPolicy policy = new RoundRobinPolicy();
    policy.pick(request("x"), idle("a", "b", "c"));
    policy.pick(request("x"), idle("a", "b", "c"));

    assertThat(picks(policy, request("x"), idle("a", "c"), 2)).containsExactlyInAnyOrder("a", "c");
  }

  @Test
  void randomIsUniformAndReproducibleWithASeed() {
    List<WorkerState> workers = idle("a", "b", "c", "d");
    List<String> first = picks(new RandomPolicy(new SplittableRandom(7)), request("x"), workers, 40);
    List<String> again = picks(new RandomPolicy(new SplittableRandom(7)), request("x"), idle("a", "b", "c", "d"), 40);

    assertThat(first).isEqualTo(again);
    Map<String, Integer> counts = new HashMap<>();
    picks(new RandomPolicy(new SplittableRandom(1)), request("x"), idle("a", "b", "c", "d"), 4000)
        .forEach(id -> counts.merge(id, 1, Integer::sum));
    assertThat(counts.values()).allSatisfy(count -> assertThat(count).isBetween(900, 1100));
  }

  @Test
  void leastLoadedTakesTheWorkerWithTheFewestOpenRequestsPerSlot() {
    List<WorkerState> workers = List.of(worker("busy", 8, 6), worker("small", 2, 1), worker("big", 16, 4));

    // Utilization: busy 0.75, small 0.5, big 0.25.
    assertThat(new LeastLoadedPolicy().pick(request("x"), workers).worker().workerId()).isEqualTo("big");
  }

  @Test
  void leastLoadedSpreadsABurstOverIdleWorkers() {
    assertThat(picks(new LeastLoadedPolicy(), request("x"), idle("a", "b", "c", "d"), 8))
        .containsExactlyInAnyOrder("a", "a", "b", "b", "c", "c", "d", "d");
  }

  @Test
  void leastLoadedReadsTheWorkersReportWhenItIsBusierThanThisGatewayKnows() {
    WorkerState reportedBusy = new WorkerState(worker("shared").descriptor(), null, -1, null, 8,
        new io.switchboard.gateway.registry.LocalInFlight());
    List<WorkerState> workers = List.of(reportedBusy, worker("quiet", 8, 2));

    assertThat(new LeastLoadedPolicy().pick(request("x"), workers).worker().workerId()).isEqualTo("quiet");
  }

  @Test
  void powerOfTwoTakesTheLessLoadedOfTwo() {
    List<WorkerState> two = List.of(worker("busy", 8, 5), worker("idle"));
    PowerOfTwoChoicesPolicy policy = new PowerOfTwoChoicesPolicy(new SplittableRandom(3));

    for (int i = 0; i < 20; i++) {
      assertThat(policy.pick(request("x"), two).worker().workerId()).isEqualTo("idle");
    }
  }

  @Test
  void powerOfTwoNeverPicksTheBusiestOfSeveral() {
    List<WorkerState> workers = List.of(worker("a", 8, 1), worker("b", 8, 2), worker("c", 8, 3),
        worker("hot", 8, 8));
    PowerOfTwoChoicesPolicy policy = new PowerOfTwoChoicesPolicy(new SplittableRandom(5));

    for (int i = 0; i < 200; i++) {
      assertThat(policy.pick(request("x"), workers).worker().workerId()).isNotEqualTo("hot");
    }
    assertThat(policy.pick(request("x"), List.of(worker("only"))).worker().workerId()).isEqualTo("only");
  }

  @Test
  void policiesAreCreatedByNameAndUnknownNamesListTheChoices() {
    RouterOptions options = new RouterOptions();
    for (String name : RoutingPolicies.NAMES) {
      assertThat(RoutingPolicies.create(name, options, System::nanoTime, null).name()).isEqualTo(name);
    }
    assertThatThrownBy(() -> RoutingPolicies.create("fastest", options, System::nanoTime, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("fastest")
        .hasMessageContaining("prefix-aware")
        .hasMessageContaining("power-of-two");
  }
}
