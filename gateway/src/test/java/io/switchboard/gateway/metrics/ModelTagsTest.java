package io.switchboard.gateway.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

class ModelTagsTest {

  @Test
  void servedModelsAreNamedUpToTheCapAndEveryOtherNameIsUnknown() {
    ModelTags tags = new ModelTags(model -> model.startsWith("served-"), 3);

    assertThat(tags.of("served-a")).isEqualTo("served-a");
    assertThat(tags.of("typo")).isEqualTo(ModelTags.UNKNOWN);
    assertThat(tags.of("served-b")).isEqualTo("served-b");
    assertThat(tags.of("served-c")).isEqualTo("served-c");
    assertThat(tags.of("served-d")).as("a fourth served model, past the cap").isEqualTo(ModelTags.OTHER);
    assertThat(tags.of("served-a")).as("named once, named for good").isEqualTo("served-a");
    assertThat(tags.of(null)).isEqualTo(ModelTags.UNKNOWN);
    assertThat(tags.named()).isEqualTo(3);
  }

  @Test
  void aHundredThousandUnknownNamesMakeNoNewMeters() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    GatewayMetrics metrics = new GatewayMetrics(registry, () -> 0, "mock-llm"::equals, 100);
    metrics.requestStarted();
    metrics.requestFinished("mock-llm", "chat_completions", 200, false, 1_000_000);
    int before = registry.getMeters().size();
    for (int i = 0; i < 100_000; i++) {
      metrics.requestStarted();
      metrics.requestFinished("model-" + i, "chat_completions", 404, false, 1_000_000);
      metrics.attemptFailed("model-" + i);
    }
    Set<String> models = new TreeSet<>();
    for (Meter meter : registry.getMeters()) {
      if (meter.getId().getTag("model") != null) {
        models.add(meter.getId().getTag("model"));
      }
    }
    assertThat(models).containsExactly("mock-llm", "unknown");
    assertThat(registry.getMeters().size() - before).as("meters added by 100,000 unknown names").isLessThanOrEqualTo(3);
  }
}
