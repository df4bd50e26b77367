package io.switchboard.runtime.config;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OptionChecksTest {

  @Test
  void eachCheckNamesTheKeyWhatItAcceptsAndWhatItGot() {
    assertThatThrownBy(() -> OptionChecks.atLeast("a.b", 5, 100, " (0 = off)"))
        .hasMessage("a.b must be >= 100 (0 = off), got 5");
    assertThatThrownBy(() -> OptionChecks.between("a.b", 9, 1, 8)).hasMessage("a.b must be between 1 and 8, got 9");
    assertThatThrownBy(() -> OptionChecks.finiteNonNegative("a.w", Double.NaN))
        .hasMessage("a.w must be a finite number >= 0, got NaN");
    assertThatThrownBy(() -> OptionChecks.oneOf("a.f", "xml", List.of("json", "text")))
        .hasMessage("a.f must be one of [json, text], got 'xml'");
    assertThatThrownBy(() -> OptionChecks.listenPort("a.port", 70_000))
        .hasMessage("a.port must be between 0 and 65535 (0 = any free port), got 70000");
    assertThatThrownBy(() -> OptionChecks.notBlank("a.host", " ", "an address to listen on"))
        .hasMessage("a.host must be an address to listen on");
    assertThatThrownBy(() -> OptionChecks.notBlank("a.host", null, "an address to listen on"))
        .hasMessage("a.host must be an address to listen on");
  }

  @Test
  void valuesInRangePass() {
    assertThatCode(() -> {
      OptionChecks.atLeast("k", 100, 100);
      OptionChecks.between("k", 8, 1, 8);
      OptionChecks.finiteNonNegative("k", 0.0);
      OptionChecks.port("k", 65535);
      OptionChecks.notBlank("k", "x", "anything");
    }).doesNotThrowAnyException();
  }
}
