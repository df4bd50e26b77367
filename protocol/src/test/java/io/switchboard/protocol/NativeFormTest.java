package io.switchboard.protocol;

import com.google.protobuf.UnknownFieldSet;
import io.switchboard.protocol.grpc.GenerateCall;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A request's native form (the client's body in its own dialect) crosses both planes and the same-node path, and
 * is backward compatible: a message without it (an older gateway's) reads as a chat request, and the fields an
 * older worker does not know are skipped by it.
 */
class NativeFormTest {

  private static final JsonObject RESPONSES_BODY = new JsonObject().put("model", "m").put("input", "hi")
      .put("reasoning", new JsonObject().put("effort", "low")).put("max_output_tokens", 12);

  private static GenerateRequest request(NativeForm nativeForm, ResumeState resume) {
    return new GenerateRequest("stream-1", "req-1", "m", RequestKind.CHAT,
        new JsonObject().put("model", "m").put("messages", new JsonArray().add(new JsonObject().put("role", "user")
            .put("content", "hi"))), "user: hi\n", new SamplingParams(12, 1.0, 1.0, List.of(), null, 4096),
        1_700_000_000_000L, TraceContext.NONE, resume, "gw-node", "reply.addr", 32, nativeForm);
  }

  @Test
  void theNativeFormSurvivesTheEventBusCodec() {
    GenerateRequest request = request(new NativeForm(NativeForm.RESPONSES, RESPONSES_BODY), ResumeState.EMPTY);

    GenerateRequest back = GenerateRequest.fromJson(new JsonObject(request.toJson().encode()));

    assertThat(back).isEqualTo(request);
    assertThat(back.nativeForm().dialect()).isEqualTo("responses");
    assertThat(back.nativeForm().body()).isEqualTo(RESPONSES_BODY);
  }

  @Test
  void theNativeFormSurvivesTheGrpcPlane() throws Exception {
    GenerateRequest request = request(new NativeForm(NativeForm.MESSAGES, new JsonObject().put("model", "m")
        .put("max_tokens", 5).put("system", "be brief")), ResumeState.EMPTY);

    byte[] bytes = GrpcMessages.toCall("w", request).toByteArray();
    GenerateRequest back = GrpcMessages.fromCall(GenerateCall.parseFrom(bytes));

    assertThat(back.nativeForm()).isEqualTo(request.nativeForm());
    assertThat(back.body()).isEqualTo(request.body());
  }

  @Test
  void anOlderGatewaysMessagesReadAsChatRequests() throws Exception {
    // JSON as a gateway before native forms wrote it: no "native" key.
    JsonObject old = request(null, ResumeState.EMPTY).toJson();
    assertThat(old.containsKey("native")).isFalse();
    assertThat(GenerateRequest.fromJson(old).nativeForm()).isNull();
    // A gRPC call without fields 13 and 14.
    GenerateCall call = GrpcMessages.toCall("w", request(null, ResumeState.EMPTY));
    assertThat(call.getNativeDialect()).isEmpty();
    assertThat(GrpcMessages.fromCall(GenerateCall.parseFrom(call.toByteArray())).nativeForm()).isNull();
  }

  @Test
  void anOlderWorkerSkipsTheNewFieldsAndKeepsTheChatBody() throws Exception {
    GenerateRequest request = request(new NativeForm(NativeForm.RESPONSES, RESPONSES_BODY), ResumeState.EMPTY);
    byte[] bytes = GrpcMessages.toCall("w", request).toByteArray();

    // What an older worker's parser keeps: every field but 13 and 14, which it does not know.
    UnknownFieldSet fields = UnknownFieldSet.parseFrom(bytes);
    assertThat(fields.hasField(13)).isTrue();
    assertThat(fields.hasField(14)).isTrue();
    UnknownFieldSet.Builder older = UnknownFieldSet.newBuilder();
    fields.asMap().forEach((number, field) -> {
      if (number < 13) {
        older.addField(number, field);
      }
    });
    GenerateRequest asOlder = GrpcMessages.fromCall(GenerateCall.parseFrom(older.build().toByteArray()));
    assertThat(asOlder.body()).isEqualTo(request.body());
    assertThat(asOlder.nativeForm()).isNull();
    // An older worker's JSON reader reads the keys it knows; the chat body is all there.
    assertThat(new JsonObject(request.toJson().encode()).getJsonObject("body")).isEqualTo(request.body());
  }

  @Test
  void aMalformedNativeBodyIsRefusedLikeAMalformedBody() {
    GenerateCall call = GrpcMessages.toCall("w", request(null, ResumeState.EMPTY)).toBuilder()
        .setNativeDialect("responses").setNativeBodyJson("[1,2]").build();

    assertThatThrownBy(() -> GrpcMessages.fromCall(call)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("native_body_json");
  }

  @Test
  void onlyAWorkerListingTheDialectGetsTheNativeFormAndNeverOnAResumedAttempt() {
    GenerateRequest request = request(new NativeForm(NativeForm.MESSAGES, new JsonObject()), ResumeState.EMPTY);

    assertThat(request.forWorker(List.of("responses", "messages")).nativeForm()).isNotNull();
    assertThat(request.forWorker(List.of("responses")).nativeForm()).isNull();
    assertThat(request.forWorker(List.of()).nativeForm()).isNull();
    GenerateRequest resumed = request(request.nativeForm(), new ResumeState("so far", 2));
    assertThat(resumed.forWorker(List.of("messages")).nativeForm()).isNull();
    assertThat(resumed.nativeToServe()).isNull();
    assertThat(request.forWorker(List.of()).body()).isEqualTo(request.body());
  }

  @Test
  void aRequestWithANativeFormIsMeasuredBeforeItIsCalledTooLarge() {
    PlaneMessageLimit limit = new PlaneMessageLimit(1024 * 1024);
    long raw = 100 * 1024; // 4 x 100 KiB re-encoded fits a 1 MiB plane; twice that does not, so it is measured
    assertThat(limit.sizeIfTooLarge(request(null, ResumeState.EMPTY), raw)).isZero();
    assertThat(limit.sizeIfTooLarge(request(new NativeForm(NativeForm.RESPONSES, RESPONSES_BODY),
        ResumeState.EMPTY), raw)).isZero(); // measured: the real message is small
  }

  @Test
  void aWorkerRecordListsItsNativeDialectsOnlyWhenItHasSome() {
    WorkerDescriptor plain = new WorkerDescriptor("w1", "n1", "m", "mocker", 4, 2048, new JsonObject());
    assertThat(plain.toJson().containsKey("nativeDialects")).isFalse();
    assertThat(WorkerDescriptor.fromJson(plain.toJson())).isEqualTo(plain);

    WorkerDescriptor llama = new WorkerDescriptor("w2", "n1", "m", "llamacpp", 4, 2048, new JsonObject(),
        List.of("responses", "messages"));
    assertThat(WorkerDescriptor.fromJson(new JsonObject(llama.toJson().encode())).nativeDialects())
        .containsExactly("responses", "messages");

    LoadReport old = new LoadReport("w2", "n1", "m", 0, 0, 4, 4, false, 1L);
    assertThat(LoadReport.fromJson(old.toJson()).nativeDialects()).isNull();
    LoadReport probed = new LoadReport("w2", "n1", "m", 0, 0, 4, 4, false, 1L, null, null, null, null,
        List.of("responses"));
    assertThat(LoadReport.fromJson(probed.toJson()).nativeDialects()).containsExactly("responses");
  }
}
