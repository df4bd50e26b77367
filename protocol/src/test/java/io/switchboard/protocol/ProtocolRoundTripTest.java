package io.switchboard.protocol;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ProtocolRoundTripTest {

  /** Every value differs from its default, so a field the wire form forgets shows up as a mismatch. */
  private static GenerateRequest fullRequest() {
    return new GenerateRequest(
        "stream-1",
        "req-1",
        "mock-llm",
        RequestKind.CHAT,
        new JsonObject().put("model", "mock-llm").put("stream", true).put("x_extra", 3),
        "user: hi\n",
        new SamplingParams(17, 0.5, 0.9, List.of("\n\n", "END"), 1234L),
        1_700_000_000_123L,
        new TraceContext("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "vendor=x"),
        new ResumeState("the model", 2),
        "gateway-node-7",
        "switchboard.gateway.g1.streams",
        64);
  }

  @Test
  void generateRequestRoundTripsEveryField() {
    GenerateRequest request = fullRequest();

    GenerateRequest back = GenerateRequest.fromJson(new JsonObject(request.toJson().encode()));

    assertThat(back).isEqualTo(request);
    assertThat(back.clientStreams()).isTrue();
    assertThat(back.sampling().stop()).containsExactly("\n\n", "END");
    assertThat(back.resume().text()).isEqualTo("the model");
    assertThat(back.resume().completionTokens()).isEqualTo(2);
  }

  @Test
  void generateRequestRoundTripsOptionalFieldsAbsent() {
    GenerateRequest request = new GenerateRequest("s", "r", "m", RequestKind.COMPLETION, null, null,
        new SamplingParams(null, SamplingParams.DEFAULT_TEMPERATURE, SamplingParams.DEFAULT_TOP_P, null, null),
        0, null, null, null, "reply", 1);

    JsonObject wire = request.toJson();
    GenerateRequest back = GenerateRequest.fromJson(new JsonObject(wire.encode()));

    assertThat(wire.getJsonObject("sampling").containsKey("maxTokens")).isFalse();
    assertThat(wire.getJsonObject("sampling").containsKey("seed")).isFalse();
    assertThat(back).isEqualTo(request);
    assertThat(back.sampling().maxTokens()).isNull();
    assertThat(back.sampling().seed()).isNull();
    assertThat(back.trace()).isEqualTo(TraceContext.NONE);
    assertThat(back.resume().isEmpty()).isTrue();
    assertThat(back.prompt()).isEmpty();
    assertThat(back.clientStreams()).isFalse();
  }

  @Test
  void deltaChunkRoundTrips() {
    StreamChunk chunk = StreamChunk.delta(5, " river", 1);

    JsonObject wire = new JsonObject(chunk.toJson("stream-9").encode());

    assertThat(wire.getString(StreamControl.STREAM_ID)).isEqualTo("stream-9");
    assertThat(StreamChunk.fromJson(wire)).isEqualTo(chunk);
    assertThat(chunk.isLast()).isFalse();
  }

  @Test
  void lastChunkRoundTripsWithUsage() {
    StreamChunk chunk = StreamChunk.last(12, "end", 1, "length", new Usage(7, 12));

    StreamChunk back = StreamChunk.fromJson(new JsonObject(chunk.toJson("s").encode()));

    assertThat(back).isEqualTo(chunk);
    assertThat(back.isLast()).isTrue();
    assertThat(back.usage().totalTokens()).isEqualTo(19);
  }

  @Test
  void cachedPromptTokensRoundTripAndAppearInOpenAisShapeOnlyWhenThereAreSome() {
    Usage usage = new Usage(900, 12, 880);

    assertThat(Usage.fromJson(new JsonObject(usage.toJson().encode()))).isEqualTo(usage);
    assertThat(usage.toOpenAi().getJsonObject("prompt_tokens_details").getInteger("cached_tokens")).isEqualTo(880);
    assertThat(new Usage(5, 1).toOpenAi().containsKey("prompt_tokens_details")).isFalse();
    assertThat(Usage.fromJson(new Usage(5, 1).toJson())).isEqualTo(new Usage(5, 1, 0));
  }

  @Test
  void emptyLastChunkRoundTrips() {
    StreamChunk chunk = StreamChunk.last(3, "", 0, "stop", new Usage(1, 3));

    assertThat(StreamChunk.fromJson(new JsonObject(chunk.toJson("s").encode()))).isEqualTo(chunk);
  }

  @Test
  void failureChunkRoundTrips() {
    GenerateError error = GenerateError.of(GenerateError.Code.DEADLINE_EXCEEDED, "too late", "w1");
    StreamChunk chunk = StreamChunk.failure(4, error);

    StreamChunk back = StreamChunk.fromJson(new JsonObject(chunk.toJson("s").encode()));

    assertThat(back).isEqualTo(chunk);
    assertThat(back.isLast()).isTrue();
    assertThat(back.error().code()).isEqualTo(GenerateError.Code.DEADLINE_EXCEEDED);
  }

  @Test
  void loadReportRoundTrips() {
    LoadReport report = new LoadReport("w1", "node-a", "mock-llm", 3, 2, 5, 8, true, 1_700_000_000_000L);

    assertThat(LoadReport.fromJson(new JsonObject(report.toJson().encode()))).isEqualTo(report);
    assertThat(report.servedModels()).containsExactly("mock-llm");
  }

  @Test
  void loadReportOfAWorkerThatLearnsItsModelsRoundTrips() {
    LoadReport report = new LoadReport("w2", "node-a", "", 0, 0, 4, 4, false, 1_700_000_000_000L,
        new JsonObject().put("backendLoad", new JsonObject().put("running", 3.0)), java.util.List.of("qwen", "embed"),
        java.util.List.of("embed"), "vLLM at 10.0.0.5:8000 is unhealthy: GET /health failed 2 times in a row");

    LoadReport back = LoadReport.fromJson(new JsonObject(report.toJson().encode()));

    assertThat(back).isEqualTo(report);
    assertThat(back.servedModels()).containsExactly("qwen", "embed");
    assertThat(back.embeddingModels()).containsExactly("embed");
    assertThat(back.unavailable()).startsWith("vLLM at");
  }

  @Test
  void workerDescriptorRoundTrips() {
    WorkerDescriptor descriptor = new WorkerDescriptor("w1", "node-a", "mock-llm", "mocker", 4, 4096,
        new JsonObject().put(WorkerDescriptor.ENDPOINT_EVENTBUS, Addresses.workerGenerate("w1")));

    WorkerDescriptor back = WorkerDescriptor.fromJson(new JsonObject(descriptor.toJson().encode()));

    assertThat(back).isEqualTo(descriptor);
    assertThat(back.recordName()).isEqualTo("worker:mock-llm:w1");
    assertThat(back.endpoints().getString("eventbus")).isEqualTo("switchboard.worker.w1.generate");
  }

  @ParameterizedTest
  @EnumSource(GenerateError.Code.class)
  void generateErrorRoundTripsThroughReplyException(GenerateError.Code code) {
    GenerateError error = new GenerateError(code, "why: " + code, !code.retryableByDefault(), "worker-3");

    ReplyException failure = error.toReplyException();

    assertThat(failure.failureType()).isEqualTo(ReplyFailure.RECIPIENT_FAILURE);
    assertThat(failure.failureCode()).isEqualTo(code.wireCode());
    assertThat(GenerateError.fromReplyException(failure)).isEqualTo(error);
  }

  @Test
  void generateErrorOfUsesTheCodesRetryability() {
    assertThat(GenerateError.of(GenerateError.Code.WORKER_BUSY, "m", "w").retryable()).isTrue();
    assertThat(GenerateError.of(GenerateError.Code.INVALID_REQUEST, "m", "w").retryable()).isFalse();
  }

  @ParameterizedTest
  @EnumSource(value = ReplyFailure.class, names = "RECIPIENT_FAILURE", mode = EnumSource.Mode.EXCLUDE)
  void replyExceptionThatIsNotARecipientFailureIsNotAWorkerError(ReplyFailure type) {
    ReplyException failure = new ReplyException(type, GenerateError.Code.WORKER_BUSY.wireCode(),
        GenerateError.of(GenerateError.Code.WORKER_BUSY, "busy", "w").toJson().encode());

    assertThat(GenerateError.fromReplyException(failure)).isNull();
  }

  @Test
  void recipientFailureWithoutJsonKeepsTheWireCodeAndMessage() {
    ReplyException failure = new ReplyException(ReplyFailure.RECIPIENT_FAILURE,
        GenerateError.Code.WORKER_STOPPING.wireCode(), "plain text, not json");

    GenerateError error = GenerateError.fromReplyException(failure);

    assertThat(error.code()).isEqualTo(GenerateError.Code.WORKER_STOPPING);
    assertThat(error.message()).isEqualTo("plain text, not json");
  }

  @Test
  void unknownErrorCodeReadsAsEngineFailed() {
    GenerateError error = GenerateError.fromJson(new JsonObject().put("code", "NO_SUCH_CODE").put("message", "x"));

    assertThat(error.code()).isEqualTo(GenerateError.Code.ENGINE_FAILED);
    assertThat(GenerateError.Code.fromWire(999)).isEqualTo(GenerateError.Code.ENGINE_FAILED);
  }
}
