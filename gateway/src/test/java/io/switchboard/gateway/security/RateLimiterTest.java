package io.switchboard.gateway.security;

import io.switchboard.testsupport.Eventually;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Counter;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static java.time.Duration.ofSeconds;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class RateLimiterTest {

  private Vertx vertx;
  private final AtomicLong nowMicros = new AtomicLong(1_800_000_000_000_000L);
  private RateLimiter limiter;

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    limiter = new RateLimiter(vertx, name -> vertx.sharedData().getCounter(name), nowMicros::get, false,
        RateLimiter.CAS_TRIES, RateLimiter.ANSWER_WITHIN_MS);
  }

  /** What the shared-data counter of that name holds now. */
  private long stored(String counter) throws Exception {
    return vertx.sharedData().getCounter(counter).compose(Counter::get).await(10, SECONDS);
  }

  private static ApiKey key(String name, long rpm, long tpm) {
    return new ApiKey(name, new byte[32], Set.of(), rpm, tpm);
  }

  @Test
  void aKeyMayBurstAMinutesRequestsThenGetsOneEveryInterval() throws Exception {
    ApiKey key = key("burst", 60, 0);
    for (int i = 0; i < 60; i++) {
      RateLimiter.Decision decision = limiter.admit(key).await(10, SECONDS);
      assertThat(decision.allowed()).as("request %d", i + 1).isTrue();
      assertThat(decision.headers()).containsEntry("x-ratelimit-limit-requests", "60")
          .containsEntry("x-ratelimit-remaining-requests", String.valueOf(59 - i));
    }
    RateLimiter.Decision refused = limiter.admit(key).await(10, SECONDS);
    assertThat(refused.allowed()).isFalse();
    assertThat(refused.exceeded()).isEqualTo("requests");
    assertThat(refused.limit()).isEqualTo(60);
    assertThat(refused.retryAfterMs()).isEqualTo(1000);
    assertThat(refused.retryAfterSeconds()).isEqualTo(1);
    assertThat(refused.headers()).containsEntry("x-ratelimit-remaining-requests", "0")
        .containsEntry("x-ratelimit-reset-requests", "1m0s");

    nowMicros.addAndGet(1_000_000);
    assertThat(limiter.admit(key).await(10, SECONDS).allowed()).as("one interval later").isTrue();
    assertThat(limiter.admit(key).await(10, SECONDS).allowed()).isFalse();
    assertThat(limiter.admit(key("other", 60, 0)).await(10, SECONDS).allowed()).as("another key has its own allowance")
        .isTrue();
  }

  @Test
  void tokensAreChargedAfterTheFactAndRefuseTheKeyUntilTheBudgetRefills() throws Exception {
    ApiKey key = key("tokens", 0, 1000);
    RateLimiter.Decision first = limiter.admit(key).await(10, SECONDS);
    assertThat(first.allowed()).isTrue();
    assertThat(first.headers()).containsEntry("x-ratelimit-remaining-tokens", "1000")
        .doesNotContainKey("x-ratelimit-limit-requests");
    limiter.charge(key, 1500);
    Eventually.within(ofSeconds(5), "the charge of 1500 tokens reaches the counter",
        () -> stored("switchboard.ratelimit." + key.name() + ".tokens") > 0);
    RateLimiter.Decision over = limiter.admit(key).await(10, SECONDS);
    assertThat(over.allowed()).isFalse();
    assertThat(over.exceeded()).isEqualTo("tokens");
    assertThat(over.retryAfterMs()).isEqualTo(30_000);
    nowMicros.addAndGet(30_000_000);
    assertThat(limiter.admit(key).await(10, SECONDS).allowed()).isTrue();
  }

  /**
   * 400 admits of one key at once, against the real shared-data counter whose reads answer a turn of the event
   * loop later (as a clustered counter's do, over the network): every admit reads the same value and all but one
   * compare-and-set lose, again and again. Whatever the races, every request let through is in the counter, and no
   * more than the key's limit get through.
   */
  @Test
  void underContentionEveryAdmittedRequestIsCountedAndTheLimitHolds(VertxTestContext test) {
    long rpm = 100;
    long interval = RateLimiter.MINUTE_US / rpm;
    RateLimiter.Counters racing = name -> vertx.sharedData().getCounter(name).map(RacingCounter::new);
    // A bound far beyond the test's run: this test is about counting, not about slow counters.
    RateLimiter contended = new RateLimiter(vertx, racing, nowMicros::get, false, 3, 60_000);
    ApiKey key = key("contended", rpm, 0);
    vertx.runOnContext(v -> {
      List<Future<RateLimiter.Decision>> admits = new ArrayList<>();
      for (int i = 0; i < 400; i++) {
        admits.add(contended.admit(key));
      }
      Future.all(admits)
          .compose(all -> vertx.sharedData().getCounter("switchboard.ratelimit.contended.requests"))
          .compose(Counter::get)
          .onComplete(test.succeeding(stored -> test.verify(() -> {
            List<RateLimiter.Decision> decisions = admits.stream().map(Future::result).toList();
            long admitted = decisions.stream().filter(RateLimiter.Decision::allowed).count();
            long counted = (stored - nowMicros.get()) / interval;
            assertThat(decisions).allSatisfy(d -> assertThat(d.unreachable()).isNull());
            assertThat(admitted).as("requests let through").isEqualTo(counted);
            assertThat(admitted).as("the whole allowance is used, never more").isEqualTo(rpm);
            assertThat((stored - nowMicros.get()) % interval).as("whole intervals only").isZero();
            test.completeNow();
          })));
    });
  }

  @Test
  void underContentionEveryChargeOfTokensIsCounted() throws Exception {
    RateLimiter.Counters racing = name -> vertx.sharedData().getCounter(name).map(RacingCounter::new);
    RateLimiter contended = new RateLimiter(vertx, racing, nowMicros::get, false, 3, 60_000);
    ApiKey key = key("charged", 0, 1000);
    long cost = 10 * RateLimiter.MINUTE_US / 1000;
    vertx.runOnContext(v -> {
      for (int i = 0; i < 200; i++) {
        contended.charge(key, 10);
      }
    });
    long expected = nowMicros.get() + 200 * cost;
    Eventually.read(ofSeconds(5), "200 charges of 10 tokens, each a sixth of a second at 1000 tpm, are counted",
        () -> stored("switchboard.ratelimit.charged.tokens"), stored -> stored == expected);
  }

  @Test
  void countersThatNeverAnswerAreAnsweredForWithinTheBoundLettingTheRequestThrough(VertxTestContext test) {
    Promise<Counter> never = Promise.promise();
    RateLimiter partitioned = new RateLimiter(vertx, name -> never.future(), nowMicros::get, false,
        RateLimiter.CAS_TRIES, RateLimiter.ANSWER_WITHIN_MS);
    // From the event loop, as the gateway admits (the bound is a timer of the caller's context).
    vertx.runOnContext(v -> partitioned.admit(key("cut-off", 60, 1000)).onComplete(test.succeeding(decision -> {
      test.verify(() -> {
        assertThat(decision.allowed()).as("whenUnreachable: allow").isTrue();
        assertThat(decision.unreachable()).contains("did not answer within 100 ms");
        assertThat(decision.headers()).isEmpty();
        assertThat(partitioned.status().getString("counters")).startsWith("unreachable");
      });
      partitioned.admit(key("cut-off", 60, 1000)).onComplete(test.succeeding(next -> test.verify(() -> {
        assertThat(next.allowed()).isTrue();
        assertThat(next.unreachable()).as("answered at once, without another hanging call").isNotNull();
        test.completeNow();
      })));
    })));
  }

  @Test
  void aCounterWhoseCallsHangRefusesWhenToldToWithinTheBound(VertxTestContext test) {
    RateLimiter.Counters hanging = name -> vertx.sharedData().getCounter(name).map(HangingCounter::new);
    RateLimiter partitioned = new RateLimiter(vertx, hanging, nowMicros::get, true, RateLimiter.CAS_TRIES,
        RateLimiter.ANSWER_WITHIN_MS);
    vertx.runOnContext(v -> partitioned.admit(key("hung", 60, 0)).onComplete(test.succeeding(decision ->
        test.verify(() -> {
          assertThat(decision.allowed()).as("whenUnreachable: refuse").isFalse();
          assertThat(decision.exceeded()).as("not a rate-limit refusal (429)").isNull();
          assertThat(decision.unreachable()).contains("did not answer within 100 ms");
          assertThat(decision.retryAfterSeconds()).isEqualTo(1);
          assertThat(partitioned.status().getString("whenUnreachable")).isEqualTo("refuse");
          test.completeNow();
        }))));
  }

  @Test
  void countersTooSlowToWaitForStillCountEveryRequestLate() throws Exception {
    RateLimiter.Counters slow = name -> vertx.sharedData().getCounter(name).map(real -> new SlowCounter(vertx, real));
    // Few compare-and-set tries, so counts racing each other at 300 ms a call settle by adding within seconds.
    RateLimiter sluggish = new RateLimiter(vertx, slow, nowMicros::get, false, 3, RateLimiter.ANSWER_WITHIN_MS);
    ApiKey key = key("sluggish", 600, 0);
    for (int i = 0; i < 20; i++) {
      long start = System.nanoTime();
      RateLimiter.Decision decision = onContext(() -> sluggish.admit(key));
      assertThat((System.nanoTime() - start) / 1_000_000).as("answered within the bound").isLessThan(1000);
      assertThat(decision.allowed()).isTrue();
    }
    long interval = RateLimiter.MINUTE_US / 600;
    long stored = Eventually.read(ofSeconds(20), "every request is counted, late", () -> storedRequests(key),
        count -> count >= nowMicros.get() + 20 * interval);
    assertThat(stored).as("every request counted once").isEqualTo(nowMicros.get() + 20 * interval);
    assertThat(sluggish.status().getLong("uncounted")).isZero();
    assertThat(sluggish.status().getLong("countedLate")).isPositive();
  }

  @Test
  void countsLeftUnansweredByCutOffCountersAreBounded() throws Exception {
    RateLimiter.Counters hanging = name -> vertx.sharedData().getCounter(name).map(HangingCounter::new);
    RateLimiter partitioned = new RateLimiter(vertx, hanging, nowMicros::get, false, RateLimiter.CAS_TRIES,
        RateLimiter.ANSWER_WITHIN_MS, 5);
    ApiKey key = key("cut-off", 600, 0);
    for (int i = 0; i < 20; i++) {
      assertThat(onContext(() -> partitioned.admit(key)).allowed()).isTrue();
    }
    assertThat(partitioned.status().getInteger("countsUnderWay")).as("hanging counts kept at once").isEqualTo(5);
    assertThat(partitioned.status().getLong("uncounted")).isEqualTo(15);
  }

  private long storedRequests(ApiKey key) throws Exception {
    return stored("switchboard.ratelimit." + key.name() + ".requests");
  }

  @Test
  void unlimitedKeysTouchNoCounter() throws Exception {
    RateLimiter.Decision decision = limiter.admit(key("free", 0, 0)).await(10, SECONDS);
    assertThat(decision.allowed()).isTrue();
    assertThat(decision.headers()).isEmpty();
  }

  @Test
  void resetDurationsReadLikeOpenAis() {
    assertThat(RateLimiter.duration(20_000)).isEqualTo("20ms");
    assertThat(RateLimiter.duration(6_500_000)).isEqualTo("7s");
    assertThat(RateLimiter.duration(360_000_000)).isEqualTo("6m0s");
  }

  /**
   * Admits from the event loop, as the gateway does (the bound is a timer of the caller's context), for a test that
   * makes one admit after another; waits no longer than the bound allows.
   */
  private RateLimiter.Decision onContext(java.util.function.Supplier<Future<RateLimiter.Decision>> admit)
      throws Exception {
    Promise<RateLimiter.Decision> decided = Promise.promise();
    vertx.runOnContext(v -> admit.get().onComplete(decided));
    return decided.future().await(2, SECONDS);
  }

  /** The real counter, its reads answered one event-loop turn later, as a remote counter's are. */
  private record RacingCounter(Counter real) implements Counter {
    @Override
    public Future<Long> get() {
      Promise<Long> later = Promise.promise();
      real.get().onComplete(value -> io.vertx.core.Vertx.currentContext().runOnContext(v -> later.handle(value)));
      return later.future();
    }

    @Override
    public Future<Long> incrementAndGet() {
      return real.incrementAndGet();
    }

    @Override
    public Future<Long> getAndIncrement() {
      return real.getAndIncrement();
    }

    @Override
    public Future<Long> decrementAndGet() {
      return real.decrementAndGet();
    }

    @Override
    public Future<Long> addAndGet(long value) {
      return real.addAndGet(value);
    }

    @Override
    public Future<Long> getAndAdd(long value) {
      return real.getAndAdd(value);
    }

    @Override
    public Future<Boolean> compareAndSet(long expected, long value) {
      return real.compareAndSet(expected, value);
    }
  }

  /** A counter of an overloaded cluster: every call answers, 300 ms late. */
  private record SlowCounter(Vertx vertx, Counter real) implements Counter {
    private <T> Future<T> late(java.util.function.Supplier<Future<T>> call) {
      Promise<T> answer = Promise.promise();
      vertx.setTimer(300, id -> call.get().onComplete(answer));
      return answer.future();
    }

    @Override
    public Future<Long> get() {
      return late(real::get);
    }

    @Override
    public Future<Long> incrementAndGet() {
      return late(real::incrementAndGet);
    }

    @Override
    public Future<Long> getAndIncrement() {
      return late(real::getAndIncrement);
    }

    @Override
    public Future<Long> decrementAndGet() {
      return late(real::decrementAndGet);
    }

    @Override
    public Future<Long> addAndGet(long value) {
      return late(() -> real.addAndGet(value));
    }

    @Override
    public Future<Long> getAndAdd(long value) {
      return late(() -> real.getAndAdd(value));
    }

    @Override
    public Future<Boolean> compareAndSet(long expected, long value) {
      return late(() -> real.compareAndSet(expected, value));
    }
  }

  /** A counter in a partition: every call waits forever (Hazelcast's own timeouts are far beyond the bound). */
  private record HangingCounter(Counter real) implements Counter {
    private static <T> Future<T> never() {
      return Promise.<T>promise().future();
    }

    @Override
    public Future<Long> get() {
      return never();
    }

    @Override
    public Future<Long> incrementAndGet() {
      return never();
    }

    @Override
    public Future<Long> getAndIncrement() {
      return never();
    }

    @Override
    public Future<Long> decrementAndGet() {
      return never();
    }

    @Override
    public Future<Long> addAndGet(long value) {
      return never();
    }

    @Override
    public Future<Long> getAndAdd(long value) {
      return never();
    }

    @Override
    public Future<Boolean> compareAndSet(long expected, long value) {
      return never();
    }
  }
}
