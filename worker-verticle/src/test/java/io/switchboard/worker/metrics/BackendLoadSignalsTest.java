package io.switchboard.worker.metrics;

import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Load signals read from captured scrapes of each backend kind (test resources under backends/). */
class BackendLoadSignalsTest {

  private static PrometheusText scrape(String kind) throws Exception {
    try (InputStream in = BackendLoadSignalsTest.class.getClassLoader()
        .getResourceAsStream("backends/" + kind + "/metrics.txt")) {
      return PrometheusText.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  @Test
  void vllmSumsItsEnginesAndTakesTheFullestKvCache() throws Exception {
    BackendLoadSignals signals = BackendLoadSignals.from(scrape("vllm")).orElseThrow();

    assertThat(signals.source()).isEqualTo("vllm");
    assertThat(signals.running()).isEqualTo(12.0);
    assertThat(signals.waiting()).isEqualTo(4.0);
    assertThat(signals.kvCacheUsage()).isEqualTo(0.4134);
  }

  @Test
  void olderVllmNamesItsKvGaugeGpuCacheUsage() {
    PrometheusText older = PrometheusText.parse("""
        vllm:num_requests_running{model_name="m"} 2.0
        vllm:num_requests_waiting{model_name="m"} 0.0
        vllm:gpu_cache_usage_perc{model_name="m"} 0.5
        """);
    assertThat(BackendLoadSignals.from(older).orElseThrow().kvCacheUsage()).isEqualTo(0.5);
  }

  @Test
  void sglang() throws Exception {
    BackendLoadSignals signals = BackendLoadSignals.from(scrape("sglang")).orElseThrow();

    assertThat(signals.source()).isEqualTo("sglang");
    assertThat(signals.running()).isEqualTo(162.0);
    assertThat(signals.waiting()).isEqualTo(2826.0);
    assertThat(signals.kvCacheUsage()).isEqualTo(0.28);
  }

  @Test
  void llamaCpp() throws Exception {
    BackendLoadSignals signals = BackendLoadSignals.from(scrape("llamacpp")).orElseThrow();

    assertThat(signals.source()).isEqualTo("llamacpp");
    assertThat(signals.running()).isEqualTo(2.0);
    assertThat(signals.waiting()).isEqualTo(1.0);
    assertThat(signals.kvCacheUsage()).isEqualTo(0.125);
  }

  @Test
  void tgiHasQueueAndBatchButNoKvGauge() throws Exception {
    BackendLoadSignals signals = BackendLoadSignals.from(scrape("tgi")).orElseThrow();

    assertThat(signals.source()).isEqualTo("tgi");
    assertThat(signals.running()).isEqualTo(24.0);
    assertThat(signals.waiting()).isEqualTo(6.0);
    assertThat(signals.kvCacheUsage()).isNull();
    assertThat(signals.toJson().containsKey("kvCacheUsage")).isFalse();
  }

  @Test
  void aScrapeWithNoKnownFamilyGivesNothing() {
    assertThat(BackendLoadSignals.from(PrometheusText.parse("process_cpu_seconds_total 3.5\n"))).isEmpty();
  }

  @Test
  void histogramsOfCapturedScrapesAreReadAndTheirQuantilesEstimated() throws Exception {
    PrometheusText sglang = scrape("sglang");
    assertThat(sglang.type("sglang:time_to_first_token_seconds")).contains("histogram");
    assertThat(sglang.type("sglang:token_usage")).contains("gauge");
    PrometheusText.Histogram ttft = sglang.histogram("sglang:time_to_first_token_seconds").orElseThrow();
    assertThat(ttft.count()).isEqualTo(11008.0);
    assertThat(ttft.buckets().get(Double.POSITIVE_INFINITY)).isEqualTo(11008.0);
    // rank 0.1 * 11008 = 1100.8 falls in (7.5, 10]: 941 below, 389 inside.
    assertThat(ttft.quantile(0.1)).isCloseTo(7.5 + 2.5 * (1100.8 - 941) / 389, within(1e-9));
    // Past the last finite bucket the answer is that bound, as histogram_quantile gives.
    assertThat(ttft.quantile(0.99)).isEqualTo(30.0);

    PrometheusText.Histogram vllm = scrape("vllm").histogram("vllm:time_to_first_token_seconds").orElseThrow();
    assertThat(vllm.count()).isEqualTo(650.0);
    assertThat(vllm.sum()).isEqualTo(41.35);
    assertThat(vllm.quantile(0.5)).isCloseTo(0.04 + 0.02 * (325 - 302) / 186.0, within(1e-9));
    assertThat(PrometheusText.parse("").histogram("x")).isEmpty();
  }
}
