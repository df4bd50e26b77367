package io.switchboard.worker;

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

class WorkerOptionsTest {

  @Test
  void defaultsAreValid() {
    assertThatCode(() -> new WorkerOptions().validate("workers[0]")).doesNotThrowAnyException();
  }

  static Stream<Arguments> badValues() {
    return Stream.of(
        bad("workers[0].model", o -> o.setModel(" ")),
        bad("workers[0].model", o -> o.setModel(null)),
        bad("workers[0].engine", o -> o.setEngine("vllm")),
        bad("workers[0].id", o -> o.setId("has space")),
        bad("workers[0].id", o -> o.setId("x".repeat(65))),
        bad("workers[0].slots", o -> o.setSlots(0)),
        bad("workers[0].maxQueue", o -> o.setMaxQueue(-1)),
        bad("workers[0].contextLength", o -> o.setContextLength(15)),
        bad("workers[0].loadReportIntervalMs", o -> o.setLoadReportIntervalMs(99)),
        bad("workers[0].drainTimeoutMs", o -> o.setDrainTimeoutMs(-1)),
        bad("workers[0].mocker.decodeTokensPerSecond", o -> o.getMocker().setDecodeTokensPerSecond(-1)),
        bad("workers[0].mocker.minAnswerTokens", o -> o.getMocker().setMinAnswerTokens(0)));
  }

  private static Arguments bad(String key, Consumer<WorkerOptions> change) {
    return Arguments.of(key, change);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badValues")
  void validateRejectsABadValueNamingItsKey(String key, Consumer<WorkerOptions> change) {
    WorkerOptions options = new WorkerOptions();
    change.accept(options);

    assertThatThrownBy(() -> options.validate("workers[0]"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(key);
  }

  @Test
  void limitsAreInclusive() {
    WorkerOptions options = new WorkerOptions()
        .setId("a.b_c-1")
        .setSlots(1)
        .setMaxQueue(0)
        .setContextLength(16)
        .setLoadReportIntervalMs(100)
        .setDrainTimeoutMs(0);

    assertThatCode(() -> options.validate("workers[3]")).doesNotThrowAnyException();
  }

  @Test
  void jsonRoundTrips() {
    WorkerOptions options = new WorkerOptions().setId("w-7").setModel("m").setSlots(3).setMaxQueue(5)
        .setContextLength(2048).setLoadReportIntervalMs(250).setDrainTimeoutMs(1234);
    options.getMocker().setSeed(9).setDecodeTokensPerSecond(12.5);

    WorkerOptions back = new WorkerOptions(new JsonObject(options.toJson().encode()));

    assertThat(back.toJson()).isEqualTo(options.toJson());
    assertThat(back.getSlots()).isEqualTo(3);
    assertThat(back.getMocker().getSeed()).isEqualTo(9);
  }

  @Test
  void resolveIdKeepsAConfiguredIdAndOtherwiseMakesOneFromTheModel() {
    assertThat(new WorkerOptions().setId("fixed").resolveId()).isEqualTo("fixed");

    WorkerOptions generated = new WorkerOptions().setModel("org/model:7b");
    String id = generated.resolveId();

    assertThat(id).startsWith("org_model_7b-").matches("[A-Za-z0-9._-]{1,64}");
    assertThat(generated.resolveId()).isEqualTo(id);
    assertThat(new WorkerOptions().setModel("org/model:7b").resolveId()).isNotEqualTo(id);
  }
}
