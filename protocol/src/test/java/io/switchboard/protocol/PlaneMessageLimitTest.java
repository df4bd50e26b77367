package io.switchboard.protocol;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What a gateway may send a worker: sized as the gRPC plane encodes it, checked without encoding when it can be. */
class PlaneMessageLimitTest {

  private static GenerateRequest request(JsonObject body, String prompt, ResumeState resume) {
    return new GenerateRequest("stream-1", "req-1", "m", RequestKind.CHAT, body, prompt,
        new SamplingParams(null, 1.0, 1.0, List.of(), null, 131_072), 0, TraceContext.NONE, resume, "node", "", 0);
  }

  @Test
  void theDefaultCarriesTheLargestOrdinaryRequestOfADefaultGatewayWithRoomForAResumedStream() {
    String text = "x".repeat(1024 * 1024 - 100);
    JsonObject body = new JsonObject().put("model", "m").put("messages", new JsonArray()
        .add(new JsonObject().put("role", "user").put("content", text)));
    GenerateRequest request = request(body, "user: " + text + "\n", new ResumeState("y".repeat(1024 * 1024), 131_072));

    assertThat(PlaneMessageLimit.ofDefault().sizeIfTooLarge(request, 1024 * 1024)).isZero();
    assertThat(PlaneMessageLimit.leastFor(1024 * 1024)).isLessThanOrEqualTo(PlaneMessageLimit.DEFAULT_MAX_BYTES);
  }

  @Test
  void aRequestOverTheLimitIsMeasuredAsTheGrpcPlaneEncodesIt() {
    String text = "x".repeat(600_000);
    GenerateRequest request = request(new JsonObject().put("prompt", text), text, ResumeState.EMPTY);
    long encoded = GrpcMessages.toCall("", request).getSerializedSize();

    long size = new PlaneMessageLimit(1024 * 1024).sizeIfTooLarge(request, 600_020);

    assertThat(size).isGreaterThan(1024 * 1024).isBetween(encoded, encoded + 8192);
  }

  @Test
  void aBodyThatGrowsWhenReEncodedIsCaughtThoughItsRawSizeFits() {
    // "1e6" comes back as "1000000.0": three times the bytes the client sent.
    JsonArray numbers = new JsonArray();
    StringBuilder raw = new StringBuilder("{\"model\":\"m\",\"prompt\":\"p\",\"x\":[");
    for (int i = 0; i < 120_000; i++) {
      numbers.add(1e6);
      raw.append(i == 0 ? "" : ",").append("1e6");
    }
    raw.append("]}");
    GenerateRequest request = request(new JsonObject().put("model", "m").put("prompt", "p").put("x", numbers), "p",
        ResumeState.EMPTY);
    PlaneMessageLimit limit = new PlaneMessageLimit(2 * raw.length());

    assertThat(limit.sizeIfTooLarge(request, raw.length())).isGreaterThan(2L * raw.length());
  }

  @Test
  void ordinaryRequestsAreNotEncodedForTheCheck() {
    GenerateRequest small = request(new JsonObject().put("prompt", "hello"), "hello", ResumeState.EMPTY);
    assertThat(PlaneMessageLimit.ofDefault().sizeIfTooLarge(small, 40)).isZero();
    assertThatThrownBy(() -> new PlaneMessageLimit(100)).isInstanceOf(IllegalArgumentException.class);
  }
}
