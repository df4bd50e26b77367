package io.switchboard.gateway.routing;

import io.switchboard.gateway.registry.WorkerState;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static io.switchboard.gateway.routing.Workers.idle;
import static io.switchboard.gateway.routing.Workers.request;
import static io.switchboard.gateway.routing.Workers.worker;
import static org.assertj.core.api.Assertions.assertThat;

class PrefixAwarePolicyTest {

  private final AtomicLong clock = new AtomicLong(1_000_000_000L);
  private final List<String> shared = new ArrayList<>();

  private PrefixAwarePolicy policy(RouterOptions options) {
    return new PrefixAwarePolicy(options, clock::get, (model, worker, blocks) -> shared.add(worker + ":" + blocks.length));
  }

  private PrefixAwarePolicy policy() {
    return policy(new RouterOptions());
  }

  /** A tenant's long system prompt: 20 blocks of 64 characters. */
  private static String system(String tenant) {
    return ("system: you are the assistant of " + tenant + ". ").repeat(40).substring(0, 1280) + "\n";
  }

  private static String pick(PrefixAwarePolicy policy, String prompt, List<WorkerState> workers) {
    WorkerState chosen = policy.pick(request(prompt), workers).worker();
    return chosen.workerId();
  }

  @Test
  void aFollowUpTurnGoesWhereItsConversationWent() {
    PrefixAwarePolicy policy = policy();
    List<WorkerState> workers = idle("a", "b", "c", "d");
    String turn1 = system("acme") + "user: what is a gateway?\n";
    String first = pick(policy, turn1, workers);

    for (int i = 0; i < 5; i++) {
      // Other conversations come and go meanwhile.
      pick(policy, system("tenant" + i) + "user: hello\n", workers);
    }
    String turn2 = turn1 + "assistant: it routes requests.\nuser: and a router?\n";
    Pick second = policy.pick(request(turn2), workers);

    assertThat(second.worker().workerId()).isEqualTo(first);
    assertThat(second.reason()).isEqualTo("prefix");
    assertThat(second.matchedChars()).isEqualTo(20 * 64);
  }

  @Test
  void sessionsOfOneTenantShareTheWorkerThatHasItsSystemPrompt() {
    PrefixAwarePolicy policy = policy();
    List<WorkerState> workers = idle("a", "b", "c", "d");
    String home = pick(policy, system("acme") + "user: first session\n", workers);

    for (int i = 0; i < 3; i++) {
      assertThat(pick(policy, system("acme") + "user: another session " + i + "\n", workers)).isEqualTo(home);
    }
  }

  @Test
  void withNothingCachedAnywhereTheLeastLoadedWorkerGetsIt() {
    PrefixAwarePolicy policy = policy();
    List<WorkerState> workers = List.of(worker("a", 8, 3), worker("b", 8, 1), worker("c", 8, 2));

    Pick pick = policy.pick(request(system("new") + "user: hi\n"), workers);

    assertThat(pick.worker().workerId()).isEqualTo("b");
    assertThat(pick.reason()).isEqualTo("load");
  }

  @Test
  void cacheMissesSpreadEvenlyInsteadOfPilingOntoOneWorker() {
    PrefixAwarePolicy policy = policy();
    List<WorkerState> workers = idle("a", "b", "c", "d");
    Map<String, Integer> counts = new HashMap<>();

    for (int i = 0; i < 40; i++) {
      counts.merge(Workers.picks(policy, request(system("tenant-" + i) + "user: hi\n"), workers, 1).get(0), 1,
          Integer::sum);
    }

    assertThat(counts).containsOnlyKeys("a", "b", "c", "d");
    assertThat(counts.values()).allSatisfy(count -> assertThat(count).isEqualTo(10));
  }

  @Test
  void aFullWorkerLosesItsCacheAdvantageToAnIdleOne() {
    PrefixAwarePolicy policy = policy(new RouterOptions().setBalanceAbsThreshold(1000));
    String prompt = system("acme") + "user: hi\n";
    List<WorkerState> idle = idle("a", "b");
    String home = pick(policy, prompt, idle);
    String other = home.equals("a") ? "b" : "a";

    // Half full: the cached prefix (worth 1.0) outweighs 0.5 utilization.
    assertThat(pick(policy, prompt, List.of(worker(home, 8, 4), worker(other, 8, 0)))).isEqualTo(home);
    // Full, plus a queue: utilization 1.25 costs more than recomputing the prompt on an idle worker.
    assertThat(pick(policy, prompt + "user: more\n", List.of(worker(home, 8, 10), worker(other, 8, 0))))
        .isEqualTo(other);
  }

  @Test
  void theBalanceGuardOverridesAHotPrefix() {
    PrefixAwarePolicy policy = policy(new RouterOptions().setBalanceAbsThreshold(2).setBalanceRelThreshold(1.5)
        .setLoadWeight(0.01));
    String prompt = system("hot") + "user: hi\n";
    String home = pick(policy, prompt, idle("a", "b", "c", "d"));
    // Not overridden while within the thresholds (2 open vs least 1).
    List<WorkerState> mild = new ArrayList<>();
    for (String id : List.of("a", "b", "c", "d")) {
      mild.add(worker(id, 8, id.equals(home) ? 2 : 1));
    }
    assertThat(policy.pick(request(prompt), mild).worker().workerId()).isEqualTo(home);
    List<WorkerState> loaded = new ArrayList<>();
    for (String id : List.of("a", "b", "c", "d")) {
      loaded.add(worker(id, 8, id.equals(home) ? 3 : 1));
    }

    Pick pick = policy.pick(request(prompt), loaded);

    // 3 open vs least 1 (>= 2 more) and vs mean 1.5 (> 1.5 x): the guard sends it to a quieter worker.
    assertThat(pick.worker().workerId()).isNotEqualTo(home);
    assertThat(pick.reason()).isEqualTo("balance");
  }

  @Test
  void aPrefixNobodySentForLongerThanTheTtlIsForgotten() {
    PrefixAwarePolicy policy = policy(new RouterOptions().setPrefixTtlMs(60_000));
    String prompt = system("acme") + "user: hi\n";
    List<WorkerState> workers = List.of(worker("a"), worker("b"));
    String home = pick(policy, prompt, workers);

    clock.addAndGet(61_000_000_000L);
    Pick later = policy.pick(request(prompt), List.of(worker(home, 8, 1), worker(home.equals("a") ? "b" : "a")));

    assertThat(later.reason()).isEqualTo("load");
    assertThat(later.worker().workerId()).isNotEqualTo(home);
  }

  @Test
  void onlyBlocksNewToTheWorkerAreSharedAndLearnedPrefixesRoute() {
    PrefixAwarePolicy policy = policy();
    String turn1 = system("acme") + "user: hi\n";
    String home = pick(policy, turn1, idle("a", "b"));
    pick(policy, turn1 + "assistant: hello there, how can I help you today? ask me anything at all.\nuser: x\n",
        idle("a", "b"));

    assertThat(shared).containsExactly(home + ":20", home + ":1");

    PrefixAwarePolicy otherGateway = policy();
    otherGateway.learn("c", PromptBlocks.hash(turn1, 64));
    assertThat(pick(otherGateway, turn1 + "user: again\n", idle("a", "b", "c", "d"))).isEqualTo("c");
  }

  @Test
  void shortPromptsHaveNoBlocksAndAreRoutedByLoad() {
    PrefixAwarePolicy policy = policy();
    assertThat(Workers.picks(policy, request("user: hi\n"), idle("a", "b"), 4))
        .containsExactlyInAnyOrder("a", "a", "b", "b");
    assertThat(policy.indexedBlocks()).isZero();
  }

  @Test
  void withManyWorkersAPickFindsTheConversationsWorkerAndSpreadsMissesOverASample() {
    PrefixAwarePolicy policy = policy();
    List<WorkerState> workers = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      workers.add(worker(String.format("w%03d", i)));
    }
    String turn1 = system("acme") + "user: hi\n";
    String home = Workers.picks(policy, request(turn1), workers, 1).get(0);
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < 400; i++) {
      counts.merge(Workers.picks(policy, request(system("t" + i) + "user: hi\n"), workers, 1).get(0), 1,
          Integer::sum);
    }

    // The conversation's worker is found among 200 although a pick samples only some of them.
    Pick second = policy.pick(request(turn1 + "assistant: hello\nuser: more\n"), workers);
    assertThat(second.worker().workerId()).isEqualTo(home);
    assertThat(second.reason()).isEqualTo("prefix");
    // 400 misses over 200 workers: spread, none piled up.
    assertThat(counts.size()).isGreaterThan(150);
    assertThat(counts.values()).allSatisfy(count -> assertThat(count).isLessThanOrEqualTo(4));
  }
}
