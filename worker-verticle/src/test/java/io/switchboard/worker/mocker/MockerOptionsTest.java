package io.switchboard.worker.mocker;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MockerOptionsTest {

  private static final String PATH = "workers[1].mocker";

  @Test
  void defaultsAreValid() {
    assertThatCode(() -> new MockerOptions().validate(PATH)).doesNotThrowAnyException();
  }

  @Test
  void zeroRatesMeanInstantAndAreValid() {
    MockerOptions options = new MockerOptions().setPrefillTokensPerSecond(0).setDecodeTokensPerSecond(0)
        .setBatchSlowdown(0).setMinAnswerTokens(1).setMaxAnswerTokens(1);

    assertThatCode(() -> options.validate(PATH)).doesNotThrowAnyException();
  }

  static Stream<Arguments> badValues() {
    return Stream.of(
        Arguments.of("workers[1].mocker.prefillTokensPerSecond",
            (Consumer<MockerOptions>) o -> o.setPrefillTokensPerSecond(-0.5)),
        Arguments.of("workers[1].mocker.decodeTokensPerSecond",
            (Consumer<MockerOptions>) o -> o.setDecodeTokensPerSecond(-1)),
        Arguments.of("workers[1].mocker.batchSlowdown",
            (Consumer<MockerOptions>) o -> o.setBatchSlowdown(-0.01)),
        Arguments.of("workers[1].mocker.minAnswerTokens",
            (Consumer<MockerOptions>) o -> o.setMinAnswerTokens(0)),
        Arguments.of("maxAnswerTokens",
            (Consumer<MockerOptions>) o -> o.setMinAnswerTokens(10).setMaxAnswerTokens(9)),
        Arguments.of("workers[1].mocker.kvBlockSize", (Consumer<MockerOptions>) o -> o.setKvBlockSize(0)),
        Arguments.of("workers[1].mocker.kvCacheBlocks", (Consumer<MockerOptions>) o -> o.setKvCacheBlocks(-1)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badValues")
  void validateRejectsABadValueNamingItsKey(String key, Consumer<MockerOptions> change) {
    MockerOptions options = new MockerOptions();
    change.accept(options);

    assertThatThrownBy(() -> options.validate(PATH))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(key);
  }

  @Test
  void jsonRoundTripsAndMissingKeysTakeDefaults() {
    MockerOptions options = new MockerOptions().setPrefillTokensPerSecond(100).setDecodeTokensPerSecond(7.5)
        .setBatchSlowdown(0.25).setSeed(-3).setMinAnswerTokens(2).setMaxAnswerTokens(4);

    MockerOptions back = new MockerOptions(new JsonObject(options.toJson().encode()));
    MockerOptions empty = new MockerOptions(new JsonObject());

    assertThat(back.toJson()).isEqualTo(options.toJson());
    assertThat(empty.toJson()).isEqualTo(new MockerOptions().toJson());
    assertThat(empty.getDecodeTokensPerSecond()).isEqualTo(MockerOptions.DEFAULT_DECODE_TOKENS_PER_SECOND);
  }
}
