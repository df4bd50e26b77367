package io.switchboard.protocol;

import io.switchboard.protocol.grpc.GenerateCall;
import io.switchboard.protocol.grpc.GenerateEvent;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The gRPC plane must carry exactly what the event-bus plane carries: every field survives the protobuf form. */
class GrpcMessagesTest {

  private static GenerateRequest request(SamplingParams sampling, TraceContext trace, ResumeState resume,
                                         String gatewayNode) {
    return new GenerateRequest("stream-1", "req-1", "mock-llm", RequestKind.CHAT,
        new JsonObject().put("model", "mock-llm").put("stream", true).put("tools", List.of("x")),
        "user: hi\n", sampling, 1_700_000_000_123L, trace, resume, gatewayNode, "", 0);
  }

  private static GenerateRequest overTheWire(GenerateRequest request) throws Exception {
    byte[] bytes = GrpcMessages.toCall("worker-9", request).toByteArray();
    GenerateCall call = GenerateCall.parseFrom(bytes);
    assertThat(call.getWorkerId()).isEqualTo("worker-9");
    return GrpcMessages.fromCall(call);
  }

  @Test
  void everyRequestFieldSurvives() throws Exception {
    GenerateRequest request = request(new SamplingParams(17, 0.5, 0.9, List.of("\n\n", "END"), 1234L),
        new TraceContext("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "vendor=x"),
        new ResumeState("the model", 2), "gateway-node-7");

    assertThat(overTheWire(request)).isEqualTo(request);
  }

  @Test
  void theGatewaysTokenCapSurvives() throws Exception {
    GenerateRequest request = request(new SamplingParams(null, 1.0, 1.0, List.of(), null, 131_072),
        TraceContext.NONE, ResumeState.EMPTY, null);

    GenerateRequest back = overTheWire(request);

    assertThat(back).isEqualTo(request);
    assertThat(back.sampling().tokenLimit()).isEqualTo(131_072);
    assertThat(GenerateRequest.fromJson(request.toJson())).isEqualTo(request);
  }

  @Test
  void absentOptionalFieldsStayAbsent() throws Exception {
    GenerateRequest request = request(new SamplingParams(null, 1.0, 1.0, List.of(), null), TraceContext.NONE,
        ResumeState.EMPTY, null);

    GenerateRequest back = overTheWire(request);

    assertThat(back).isEqualTo(request);
    assertThat(back.sampling().maxTokens()).isNull();
    assertThat(back.sampling().seed()).isNull();
    assertThat(back.sampling().tokenCap()).isNull();
    assertThat(back.trace().traceparent()).isNull();
    assertThat(back.gatewayNodeId()).isNull();
  }

  @Test
  void aMaxTokensOfZeroIsNotMistakenForAbsent() throws Exception {
    GenerateRequest request = request(new SamplingParams(0, 1.0, 1.0, List.of(), 0L), TraceContext.NONE,
        ResumeState.EMPTY, null);

    assertThat(overTheWire(request).sampling().maxTokens()).isZero();
    assertThat(overTheWire(request).sampling().seed()).isZero();
  }

  @Test
  void malformedCallsAreRefusedWithTheReason() {
    GenerateCall noIds = GenerateCall.newBuilder().setModel("m").setKind("chat").build();
    assertThatThrownBy(() -> GrpcMessages.fromCall(noIds)).hasMessageContaining("stream_id");

    GenerateCall badKind = GenerateCall.newBuilder().setStreamId("s").setRequestId("r").setModel("m")
        .setKind("translation").build();
    assertThatThrownBy(() -> GrpcMessages.fromCall(badKind)).hasMessageContaining("unknown request kind");

    GenerateCall badBody = GenerateCall.newBuilder().setStreamId("s").setRequestId("r").setModel("m")
        .setKind("chat").setBodyJson("[1,2").build();
    assertThatThrownBy(() -> GrpcMessages.fromCall(badBody)).hasMessageContaining("body_json");
  }

  @Test
  void chunksSurviveInEveryShape() throws Exception {
    List<StreamChunk> chunks = List.of(
        StreamChunk.delta(0, "Hello", 1),
        StreamChunk.delta(1, "", 0),
        StreamChunk.last(2, " world", 1, "length", new Usage(5, 2)),
        StreamChunk.last(2, "!", 1, "stop", new Usage(900, 2, 880)),
        StreamChunk.delta(3, "", 1, new JsonObject().put("delta", new JsonObject().put("tool_calls",
            new io.vertx.core.json.JsonArray().add(new JsonObject().put("index", 0).put("id", "call_1"))))),
        StreamChunk.last(4, "", 0, "stop", new Usage(3, 0), new JsonObject().put("result",
            new JsonObject().put("data", new io.vertx.core.json.JsonArray()))),
        StreamChunk.failure(3, new GenerateError(GenerateError.Code.WORKER_STOPPING, "drain timeout", true, "w1")),
        StreamChunk.failure(4, new GenerateError(GenerateError.Code.ENGINE_FAILED, "boom", false, null)),
        StreamChunk.failure(0, GenerateError.invalidField("ignore_eos", "refused", "w1")),
        StreamChunk.failure(0, GenerateError.of(GenerateError.Code.TOO_LARGE, "answer too large", "w1")));
    for (StreamChunk chunk : chunks) {
      GenerateEvent event = GenerateEvent.parseFrom(GrpcMessages.chunk(chunk).toByteArray());
      assertThat(event.hasChunk()).isTrue();
      assertThat(GrpcMessages.fromChunk(event.getChunk())).isEqualTo(chunk);
    }
  }

  @Test
  void acceptanceAndRefusalAreDistinctEvents() throws Exception {
    GenerateEvent accepted = GenerateEvent.parseFrom(GrpcMessages.accepted("w1").toByteArray());
    assertThat(accepted.hasAccepted()).isTrue();
    assertThat(accepted.getAccepted().getWorkerId()).isEqualTo("w1");

    GenerateError busy = GenerateError.of(GenerateError.Code.WORKER_BUSY, "full", "w1");
    GenerateEvent refused = GenerateEvent.parseFrom(GrpcMessages.refused(busy).toByteArray());
    assertThat(refused.hasRefused()).isTrue();
    assertThat(GrpcMessages.fromFailure(refused.getRefused())).isEqualTo(busy);
  }

  @Test
  void anUnknownFailureCodeFromANewerPeerReadsAsEngineFailed() {
    GenerateError error = GrpcMessages.fromFailure(io.switchboard.protocol.grpc.Failure.newBuilder()
        .setCode("SOMETHING_NEW").setMessage("m").build());
    assertThat(error.code()).isEqualTo(GenerateError.Code.ENGINE_FAILED);
  }
}
