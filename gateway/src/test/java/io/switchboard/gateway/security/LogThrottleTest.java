package io.switchboard.gateway.security;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class LogThrottleTest {

  @Test
  void letsABurstThroughPerIntervalAndCountsWhatItLeftOut() {
    LogThrottle throttle = new LogThrottle(1000, 3);
    assertThat(throttle.due(0)).isEqualTo(1);
    assertThat(throttle.due(10)).isEqualTo(1);
    assertThat(throttle.due(20)).isEqualTo(1);
    for (int i = 0; i < 500; i++) {
      assertThat(throttle.due(30 + i)).isEqualTo(-1);
    }
    assertThat(throttle.due(1000)).as("the next line says 500 were left out").isEqualTo(501);
    assertThat(throttle.due(1001)).isEqualTo(1);
  }

  @Test
  void oneLinePerIntervalByDefault() {
    LogThrottle throttle = new LogThrottle(5000);
    assertThat(throttle.due(0)).isEqualTo(1);
    assertThat(throttle.due(4999)).isEqualTo(-1);
    assertThat(throttle.due(5000)).isEqualTo(2);
  }
}
