package io.switchboard.gateway.exchange.listeners;

import io.switchboard.gateway.security.ApiKey;
import io.switchboard.gateway.security.RateLimitOptions;
import io.switchboard.gateway.security.RateLimiter;
import io.switchboard.protocol.Usage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Against the real limiter on this Vert.x instance's shared counters; what was charged shows in its headers. */
class TokenChargeListenerTest {

  /** 600 tokens a minute: ten a second come back, so a charge of hundreds is plain within a test's time. */
  private static final long TPM = 600;

  private final Vertx vertx = Vertx.vertx();
  private final RateLimiter limiter = new RateLimiter(vertx, new RateLimitOptions());
  private final TokenChargeListener listener = new TokenChargeListener(limiter);

  @AfterEach
  void close() throws Exception {
    await(vertx.close());
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static ApiKey key(String name, long tpm) {
    return new ApiKey(name, new byte[32], Set.of(), 0, tpm);
  }

  /** The key's tokens left, once the charge landed (it is sent without waiting); the full budget if none came. */
  private long remainingAfterCharge(ApiKey key) throws Exception {
    long deadline = System.currentTimeMillis() + 5000;
    long remaining;
    do {
      Thread.sleep(10);
      remaining = Long.parseLong(await(limiter.admit(key)).headers().get("x-ratelimit-remaining-tokens"));
    } while (remaining == TPM && System.currentTimeMillis() < deadline);
    return remaining;
  }

  @Test
  void aCompletedRequestIsChargedTheWorkersCountOfPromptAndCompletion() throws Exception {
    ApiKey key = key("completed", TPM);
    listener.generationEnded(ListenerFixtures.facts("chat_completions", "m", true, key), new Usage(200, 100), 90);

    assertThat(remainingAfterCharge(key)).as("600 - (200 + 100), give or take what came back since")
        .isBetween(295L, 320L);
  }

  @Test
  void anUnfinishedRequestIsChargedTheCompletionTokensItGot() throws Exception {
    ApiKey key = key("cut-short", TPM);
    listener.generationEnded(ListenerFixtures.facts("messages", "m", true, key), null, 150);

    assertThat(remainingAfterCharge(key)).as("600 - 150, give or take what came back since").isBetween(445L, 470L);
  }

  @Test
  void aKeyWithoutATokenLimitOrNoKeyIsChargedNothing() throws Exception {
    ApiKey unlimited = key("unlimited", 0);
    listener.generationEnded(ListenerFixtures.facts("chat_completions", "m", false, unlimited), new Usage(10, 10), 10);
    listener.generationEnded(ListenerFixtures.facts("chat_completions", "m", false, null), new Usage(10, 10), 10);

    Thread.sleep(50);
    assertThat(await(await(vertx.sharedData().getCounter("switchboard.ratelimit.unlimited.tokens")).get())).isZero();
  }
}
