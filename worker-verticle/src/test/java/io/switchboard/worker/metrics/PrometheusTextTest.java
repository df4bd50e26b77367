package io.switchboard.worker.metrics;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class PrometheusTextTest {

  @Test
  void readsGaugesCountersAndSkipsHelpAndType() {
    PrometheusText text = PrometheusText.parse("""
        # HELP llamacpp:requests_processing Number of requests processing
        # TYPE llamacpp:requests_processing gauge
        llamacpp:requests_processing 2
        # HELP llamacpp:requests_deferred Number of requests deferred
        # TYPE llamacpp:requests_deferred gauge
        llamacpp:requests_deferred 5
        llamacpp:kv_cache_usage_ratio 0.25
        """);

    assertThat(text.value("llamacpp:requests_processing")).contains(2.0);
    assertThat(text.value("llamacpp:requests_deferred")).contains(5.0);
    assertThat(text.value("llamacpp:kv_cache_usage_ratio")).contains(0.25);
    assertThat(text.value("missing")).isEmpty();
  }

  @Test
  void readsLabelsWithEscapesSpecialValuesAndTimestamps() {
    PrometheusText text = PrometheusText.parse("""
        vllm:num_requests_running{model_name="m \\"quoted\\" \\\\ back\\nline",engine="0"} 3 1700000000000
        vllm:gpu_cache_usage_perc{model_name="m"} NaN
        http_request_duration_seconds_bucket{le="+Inf"} +Inf
        neg -Inf
        sci 1.5e3
        """);

    PrometheusText.Sample running = text.samples().get(0);
    assertThat(running.name()).isEqualTo("vllm:num_requests_running");
    assertThat(running.labels()).isEqualTo(Map.of("model_name", "m \"quoted\" \\ back\nline", "engine", "0"));
    assertThat(running.value()).isEqualTo(3.0);
    assertThat(text.value("vllm:gpu_cache_usage_perc").orElseThrow()).isNaN();
    assertThat(text.samples().get(2).labels()).containsEntry("le", "+Inf");
    assertThat(text.samples().get(2).value()).isInfinite();
    assertThat(text.value("neg")).contains(Double.NEGATIVE_INFINITY);
    assertThat(text.value("sci")).contains(1500.0);
  }

  @Test
  void histogramsComeOutAsTheirSamples() {
    PrometheusText text = PrometheusText.parse("""
        # TYPE tgi_request_duration histogram
        tgi_request_duration_bucket{le="0.1"} 4
        tgi_request_duration_bucket{le="+Inf"} 9
        tgi_request_duration_sum 3.2
        tgi_request_duration_count 9
        """);

    assertThat(text.samples()).hasSize(4);
    assertThat(text.value("tgi_request_duration_count")).contains(9.0);
  }

  @Test
  void malformedLinesAreSkippedNotFatal() {
    PrometheusText text = PrometheusText.parse("""
        good 1
        {no_name="x"} 2
        unclosed{a="b 3
        novalue
        wrong{a=b} 4
        notanumber abc
        also_good{a="1"} 7
        """);

    assertThat(text.samples()).extracting(PrometheusText.Sample::name).containsExactly("good", "also_good");
  }

  @Test
  void theFirstOfSeveralNamesWins() {
    PrometheusText text = PrometheusText.parse("vllm:gpu_cache_usage_perc 0.5\n");
    assertThat(text.firstOf("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc")).contains(0.5);
  }
}
