package io.switchboard.gateway.metrics;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class RecentTrafficTest {

  @Test
  void ratesAndMedianCoverTheWindowAndOlderSecondsDropOut() {
    AtomicLong now = new AtomicLong(1_000_000);
    RecentTraffic traffic = new RecentTraffic(now::get);
    for (int i = 0; i < 10; i++) {
      traffic.finished(200);
      traffic.firstToken(100 + i);
    }
    traffic.finished(502);
    traffic.finished(499);
    now.addAndGet(1000);
    for (int i = 0; i < 8; i++) {
      traffic.finished(200);
    }

    JsonObject last10 = traffic.snapshot(10);
    assertThat(last10.getDouble("requestsPerSecond")).isEqualTo(2.0);
    assertThat(last10.getDouble("failuresPerSecond")).isEqualTo(0.1);
    assertThat(last10.getDouble("cancelledPerSecond")).isEqualTo(0.1);
    assertThat(last10.getLong("ttftP50Ms")).isEqualTo(105);

    now.addAndGet(70_000);
    JsonObject later = traffic.snapshot(10);
    assertThat(later.getDouble("requestsPerSecond")).isZero();
    assertThat(later.getLong("ttftP50Ms")).isNull();
  }
}
