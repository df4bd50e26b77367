package io.switchboard.gateway.routing;

import io.switchboard.gateway.registry.WorkerState;
import io.switchboard.protocol.WorkerDescriptor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RoundRobinPolicyTest {

  private static WorkerState worker(String id, String model) {
    return new WorkerState(new WorkerDescriptor(id, "node", model, "mocker", 1, 8192, null), null, -1, null);
  }

  private static List<String> picks(RoutingPolicy policy, String model, List<WorkerState> candidates, int times) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < times; i++) {
      ids.add(policy.pick(model, candidates).workerId());
    }
    return ids;
  }

  @Test
  void cyclesThroughTheCandidatesInOrder() {
    RoundRobinPolicy policy = new RoundRobinPolicy();
    List<WorkerState> workers = List.of(worker("a", "m"), worker("b", "m"), worker("c", "m"));

    assertThat(picks(policy, "m", workers, 7)).containsExactly("a", "b", "c", "a", "b", "c", "a");
  }

  @Test
  void eachModelHasItsOwnTurn() {
    RoundRobinPolicy policy = new RoundRobinPolicy();
    List<WorkerState> small = List.of(worker("s1", "small"), worker("s2", "small"));
    List<WorkerState> large = List.of(worker("l1", "large"), worker("l2", "large"), worker("l3", "large"));

    List<String> interleaved = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      interleaved.add(policy.pick("small", small).workerId());
      interleaved.add(policy.pick("large", large).workerId());
      interleaved.add(policy.pick("large", large).workerId());
    }

    assertThat(interleaved).containsExactly(
        "s1", "l1", "l2",
        "s2", "l3", "l1",
        "s1", "l2", "l3",
        "s2", "l1", "l2");
  }

  @Test
  void aSingleCandidateIsAlwaysPicked() {
    RoundRobinPolicy policy = new RoundRobinPolicy();

    assertThat(picks(policy, "m", List.of(worker("only", "m")), 3)).containsOnly("only");
  }

  @Test
  void aChangingCandidateListStillGivesACandidate() {
    RoundRobinPolicy policy = new RoundRobinPolicy();
    List<WorkerState> three = List.of(worker("a", "m"), worker("b", "m"), worker("c", "m"));
    List<WorkerState> two = List.of(worker("a", "m"), worker("c", "m"));

    policy.pick("m", three);
    policy.pick("m", three);
    WorkerState next = policy.pick("m", two);

    assertThat(two).contains(next);
    // Over a full cycle, every remaining worker is picked.
    assertThat(picks(policy, "m", two, 2)).containsExactlyInAnyOrder("a", "c");
  }

  @Test
  void policiesAreCreatedByName() {
    assertThat(RoutingPolicies.create("round-robin")).isInstanceOf(RoundRobinPolicy.class);
    assertThatThrownBy(() -> RoutingPolicies.create("random"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("random")
        .hasMessageContaining("round-robin");
  }
}
