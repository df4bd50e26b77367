package io.switchboard.gateway.resilience;

import org.junit.jupiter.api.Test;

import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;

class RetryBackoffTest {

  @Test
  void theFirstRetryGoesAtOnceAndLaterOnesDoubleFromTheBase() {
    RetryBackoff middle = new RetryBackoff(50, () -> 0.5);

    assertThat(middle.delayMs(1)).isZero();
    assertThat(middle.delayMs(2)).isEqualTo(50);
    assertThat(middle.delayMs(3)).isEqualTo(100);
    assertThat(middle.delayMs(4)).isEqualTo(200);
  }

  @Test
  void jitterSpreadsEachDelayOverHalfToOneAndAHalfTimesIt() {
    assertThat(new RetryBackoff(100, () -> 0.0).delayMs(3)).isEqualTo(100);
    assertThat(new RetryBackoff(100, () -> 0.999_999).delayMs(3)).isEqualTo(299);

    RetryBackoff random = new RetryBackoff(100, () -> ThreadLocalRandom.current().nextDouble());
    long distinct = java.util.stream.IntStream.range(0, 200).mapToLong(i -> random.delayMs(2)).distinct().count();
    assertThat(distinct).as("jittered delays differ").isGreaterThan(20);
    assertThat(java.util.stream.IntStream.range(0, 200).mapToLong(i -> random.delayMs(2)))
        .allMatch(ms -> ms >= 50 && ms < 150);
  }

  @Test
  void growthStopsAtATimesTheBaseAndZeroTurnsBackoffOff() {
    RetryBackoff middle = new RetryBackoff(50, () -> 0.5);
    assertThat(middle.delayMs(12)).isEqualTo(50L << 10);
    assertThat(middle.delayMs(1_000)).isEqualTo(50L << 10);

    assertThat(new RetryBackoff(0, () -> 0.5).delayMs(5)).isZero();
  }
}
