package io.switchboard.gateway.http;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ClientTextTest {

  @Test
  void shortTextIsShownAsItIs() {
    assertThat(ClientText.shown("mock-llm")).isSameAs("mock-llm");
    assertThat(ClientText.shown("x".repeat(128))).hasSize(128);
    assertThat(ClientText.shown(null)).isNull();
  }

  @Test
  void longTextIsCutAndSaysHowLongItWas() {
    String shown = ClientText.shown("m".repeat(4096));
    assertThat(shown).isEqualTo("m".repeat(128) + "... (4096 characters)");
  }

  @Test
  void controlCharactersCannotStartANewLogLine() {
    assertThat(ClientText.shown("a\nfake log line\r\u0000b")).isEqualTo("a?fake log line??b");
  }

  @Test
  void aSurrogatePairIsNeverCutInHalf() {
    String text = "x".repeat(127) + "\ud83d\ude00" + "y".repeat(10);
    String shown = ClientText.shown(text);
    assertThat(shown).startsWith("x".repeat(127) + "...");
    assertThat(Character.isHighSurrogate(shown.charAt(126))).isFalse();
  }
}
