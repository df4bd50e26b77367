package io.switchboard.gateway.routing;

import io.switchboard.gateway.registry.WorkerState;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static io.switchboard.gateway.routing.Workers.idle;
import static io.switchboard.gateway.routing.Workers.worker;
import static org.assertj.core.api.Assertions.assertThat;

class SessionAffinityPolicyTest {

  private final AtomicLong clock = new AtomicLong(1_000_000_000L);

  private static RouteRequest in(String session) {
    return new RouteRequest("m", "user: hi\n", session);
  }

  @Test
  void aSessionStaysOnTheWorkerItStartedOn() {
    SessionAffinityPolicy policy = new SessionAffinityPolicy(new RouterOptions(), clock::get);
    List<WorkerState> workers = idle("a", "b", "c");

    String first = Workers.picks(policy, in("s1"), workers, 1).get(0);
    Workers.picks(policy, in("s2"), workers, 1);
    Workers.picks(policy, in("s3"), workers, 1);

    Pick again = policy.pick(in("s1"), workers);
    assertThat(again.worker().workerId()).isEqualTo(first);
    assertThat(again.reason()).isEqualTo("session");
  }

  @Test
  void longSessionNamesAreRememberedByADigestOfBoundedSize() {
    SessionAffinityPolicy policy = new SessionAffinityPolicy(new RouterOptions(), clock::get);
    List<WorkerState> workers = idle("a", "b", "c");
    for (int i = 0; i < 1000; i++) {
      policy.pick(in(i + "-" + "u".repeat(10_000)), workers);
    }
    String long1 = "session-" + "x".repeat(100_000);
    String first = Workers.picks(policy, in(long1), workers, 1).get(0);
    Workers.picks(policy, in("other-" + "x".repeat(100_000)), workers, 1);

    assertThat(policy.sessions()).isEqualTo(1002);
    assertThat(policy.keyChars()).as("characters the 1,002 remembered names hold").isLessThanOrEqualTo(1002L * 71);
    Pick again = policy.pick(in(long1), workers);
    assertThat(again.worker().workerId()).as("a long session still sticks").isEqualTo(first);
    assertThat(again.reason()).isEqualTo("session");
    assertThat(SessionAffinityPolicy.keyOf("short-session")).isEqualTo("short-session");
  }

  @Test
  void newSessionsAndRequestsWithoutOneGoToTheLeastLoaded() {
    SessionAffinityPolicy policy = new SessionAffinityPolicy(new RouterOptions(), clock::get);
    List<WorkerState> workers = List.of(worker("a", 8, 4), worker("b", 8, 1));

    assertThat(policy.pick(in("new"), workers).worker().workerId()).isEqualTo("b");
    Pick anonymous = policy.pick(in(null), workers);
    assertThat(anonymous.worker().workerId()).isEqualTo("b");
    assertThat(anonymous.reason()).isEqualTo("load");
    assertThat(policy.sessions()).isEqualTo(1);
  }

  @Test
  void aSessionWhoseWorkerIsGoneMovesAndStaysOnItsNewWorker() {
    SessionAffinityPolicy policy = new SessionAffinityPolicy(new RouterOptions(), clock::get);
    policy.pick(in("s"), List.of(worker("a")));

    String moved = policy.pick(in("s"), idle("b", "c")).worker().workerId();

    assertThat(policy.pick(in("s"), idle("b", "c")).worker().workerId()).isEqualTo(moved);
  }

  @Test
  void theBalanceGuardMovesASessionOffAnOverloadedWorker() {
    SessionAffinityPolicy policy = new SessionAffinityPolicy(new RouterOptions().setBalanceAbsThreshold(3),
        clock::get);
    policy.pick(in("s"), List.of(worker("a"), worker("b", 8, 1)));

    Pick pick = policy.pick(in("s"), List.of(worker("a", 8, 5), worker("b", 8, 1)));

    assertThat(pick.worker().workerId()).isEqualTo("b");
    assertThat(pick.reason()).isEqualTo("balance");
  }

  @Test
  void idleSessionsExpireAndTheTableIsBounded() {
    SessionAffinityPolicy policy = new SessionAffinityPolicy(new RouterOptions().setSessionTtlMs(1000)
        .setSessionMaxEntries(2), clock::get);
    policy.pick(in("s"), List.of(worker("a")));
    clock.addAndGet(2_000_000_000L);

    assertThat(policy.pick(in("s"), List.of(worker("a", 8, 2), worker("b"))).reason()).isEqualTo("load");
    policy.pick(in("t"), idle("a"));
    policy.pick(in("u"), idle("a"));
    assertThat(policy.sessions()).isEqualTo(2);
  }
}
