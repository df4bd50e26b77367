package io.switchboard.gateway.exchange.listeners;

import io.switchboard.gateway.security.ApiKey;
import io.switchboard.gateway.security.RateLimitOptions;
import io.switchboard.gateway.security.RateLimiter;
import io.switchboard.protocol.Usage;
import io.switchboard.testsupport.Eventually;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Counter;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Set;

import static java.time.Duration.ofSeconds;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/** Against the real limiter on this Vert.x instance's shared counters; what was charged shows in its headers. */
@ExtendWith(VertxExtension.class)
class TokenChargeListenerTest {

  /** 600 tokens a minute: ten a second come back, so a charge of hundreds is plain within a test's time. */
  private static final long TPM = 600;

  private Vertx vertx;
  private RateLimiter limiter;
  private TokenChargeListener listener;

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    limiter = new RateLimiter(vertx, new RateLimitOptions());
    listener = new TokenChargeListener(limiter);
  }

  private static ApiKey key(String name, long tpm) {
    return new ApiKey(name, new byte[32], Set.of(), 0, tpm);
  }

  /** The key's tokens left, once the charge landed (it is sent without waiting); the full budget if none came. */
  private long remainingAfterCharge(ApiKey key) throws Exception {
    return Eventually.read(ofSeconds(5), "the charge lands", () -> Long.parseLong(limiter.admit(key)
        .await(10, SECONDS).headers().get("x-ratelimit-remaining-tokens")), remaining -> remaining != TPM);
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

    // The charge is sent without waiting: real time in which one that was sent would land.
    Thread.sleep(50);
    assertThat(vertx.sharedData().getCounter("switchboard.ratelimit.unlimited.tokens").compose(Counter::get)
        .await(10, SECONDS)).isZero();
  }
}
