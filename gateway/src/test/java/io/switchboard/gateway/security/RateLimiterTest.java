package io.switchboard.gateway.security;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class RateLimiterTest {

  private final Vertx vertx = Vertx.vertx();
  private final AtomicLong nowMicros = new AtomicLong(1_800_000_000_000_000L);
  private final RateLimiter limiter = new RateLimiter(vertx, nowMicros::get);

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static ApiKey key(String name, long rpm, long tpm) {
    return new ApiKey(name, new byte[32], Set.of(), rpm, tpm);
  }

  @Test
  void aKeyMayBurstAMinutesRequestsThenGetsOneEveryInterval() throws Exception {
    ApiKey key = key("burst", 60, 0);
    for (int i = 0; i < 60; i++) {
      RateLimiter.Decision decision = await(limiter.admit(key));
      assertThat(decision.allowed()).as("request %d", i + 1).isTrue();
      assertThat(decision.headers()).containsEntry("x-ratelimit-limit-requests", "60")
          .containsEntry("x-ratelimit-remaining-requests", String.valueOf(59 - i));
    }
    RateLimiter.Decision refused = await(limiter.admit(key));
    assertThat(refused.allowed()).isFalse();
    assertThat(refused.exceeded()).isEqualTo("requests");
    assertThat(refused.limit()).isEqualTo(60);
    assertThat(refused.retryAfterMs()).isEqualTo(1000);
    assertThat(refused.retryAfterSeconds()).isEqualTo(1);
    assertThat(refused.headers()).containsEntry("x-ratelimit-remaining-requests", "0")
        .containsEntry("x-ratelimit-reset-requests", "1m0s");

    nowMicros.addAndGet(1_000_000);
    assertThat(await(limiter.admit(key)).allowed()).as("one interval later").isTrue();
    assertThat(await(limiter.admit(key)).allowed()).isFalse();
    assertThat(await(limiter.admit(key("other", 60, 0))).allowed()).as("another key has its own allowance").isTrue();
  }

  @Test
  void tokensAreChargedAfterTheFactAndRefuseTheKeyUntilTheBudgetRefills() throws Exception {
    ApiKey key = key("tokens", 0, 1000);
    RateLimiter.Decision first = await(limiter.admit(key));
    assertThat(first.allowed()).isTrue();
    assertThat(first.headers()).containsEntry("x-ratelimit-remaining-tokens", "1000")
        .doesNotContainKey("x-ratelimit-limit-requests");
    limiter.charge(key, 1500);
    waitForCharge(key, 1500);
    RateLimiter.Decision over = await(limiter.admit(key));
    assertThat(over.allowed()).isFalse();
    assertThat(over.exceeded()).isEqualTo("tokens");
    assertThat(over.retryAfterMs()).isEqualTo(30_000);
    nowMicros.addAndGet(30_000_000);
    assertThat(await(limiter.admit(key)).allowed()).isTrue();
  }

  @Test
  void unlimitedKeysTouchNoCounter() throws Exception {
    RateLimiter.Decision decision = await(limiter.admit(key("free", 0, 0)));
    assertThat(decision.allowed()).isTrue();
    assertThat(decision.headers()).isEmpty();
  }

  @Test
  void resetDurationsReadLikeOpenAis() {
    assertThat(RateLimiter.duration(20_000)).isEqualTo("20ms");
    assertThat(RateLimiter.duration(6_500_000)).isEqualTo("7s");
    assertThat(RateLimiter.duration(360_000_000)).isEqualTo("6m0s");
  }

  private void waitForCharge(ApiKey key, long tokens) throws Exception {
    long deadline = System.currentTimeMillis() + 5000;
    while (System.currentTimeMillis() < deadline) {
      long stored = await(await(vertx.sharedData().getCounter("switchboard.ratelimit." + key.name() + ".tokens")).get());
      if (stored > 0) {
        return;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("the charge of " + tokens + " tokens never reached the counter");
  }
}
