package io.switchboard.runtime.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OptionsJsonTest {

  /** Shaped like a generated data object: a converter that skips null values. */
  public static class Sample {
    private String host;
    private int port = 80;

    public String getHost() {
      return host;
    }

    public Sample setHost(String host) {
      this.host = host;
      return this;
    }

    public int getPort() {
      return port;
    }

    public Sample setPort(int port) {
      this.port = port;
      return this;
    }
  }

  private static void skipNulls(Sample sample, JsonObject json) {
    json.put("port", sample.getPort());
    if (sample.getHost() != null) {
      json.put("host", sample.getHost());
    }
  }

  @Test
  void unsetSettingsStayAsNullKeysInFieldOrder() {
    JsonObject json = OptionsJson.write(new Sample(), OptionsJsonTest::skipNulls);

    assertThat(json.fieldNames()).containsExactly("host", "port");
    assertThat(json.containsKey("host")).isTrue();
    assertThat(json.getValue("host")).isNull();
    assertThat(json.getInteger("port")).isEqualTo(80);
  }

  @Test
  void setSettingsKeepTheirValues() {
    JsonObject json = OptionsJson.write(new Sample().setHost("10.0.0.1"), OptionsJsonTest::skipNulls);

    assertThat(json.getString("host")).isEqualTo("10.0.0.1");
  }

  @Test
  void checksKeepOneMessageShape() {
    assertThatThrownBy(() -> OptionChecks.atLeast("a.b", 1, 2)).hasMessage("a.b must be >= 2, got 1");
    assertThatThrownBy(() -> OptionChecks.atLeast("a.b", -1, 0, " (0 = off)"))
        .hasMessage("a.b must be >= 0 (0 = off), got -1");
    assertThatThrownBy(() -> OptionChecks.listenPort("a.port", 70000))
        .hasMessage("a.port must be between 0 and 65535 (0 = any free port), got 70000");
    assertThatThrownBy(() -> OptionChecks.finiteNonNegative("a.w", Double.NaN))
        .hasMessage("a.w must be a finite number >= 0, got NaN");
    assertThatThrownBy(() -> OptionChecks.oneOf("a.kind", "x", java.util.List.of("y", "z")))
        .hasMessage("a.kind must be one of [y, z], got 'x'");
  }
}
