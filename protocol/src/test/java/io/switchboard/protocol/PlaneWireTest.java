package io.switchboard.protocol;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The binary plane format: every message comes back equal to what was sent, whatever its text; a message cut short,
 * of another version, or of random bytes fails with {@link PlaneWireException} (naming its stream when it can), never
 * with anything else.
 */
class PlaneWireTest {

  /** Quotes, backslashes, control characters, an emoji (a surrogate pair) and surrogates without their pair. */
  private static final String NASTY = "say \"hi\" \\ back\n\t\u0000\u0001\u001f é 中文 \uD83D\uDE00 lone:\uD800 low:\uDC00x";
  private static final String LONE_AT_END = "ends high \uD83D";

  private final GenerateRequestCodec requestCodec = new GenerateRequestCodec();
  private final TaggedChunkCodec chunkCodec = new TaggedChunkCodec();
  private final StreamControlCodec controlCodec = new StreamControlCodec();

  private static GenerateRequest fullRequest() {
    return new GenerateRequest(
        "stream-" + NASTY,
        "req-1 " + NASTY,
        "mock-llm",
        RequestKind.CHAT,
        new JsonObject().put("model", "mock-llm").put("stream", true).put("x_extra", 3).put("t", NASTY)
            .put("nested", new JsonObject().put("a", new JsonArray().add(1.5).add(false).addNull().add("x"))),
        "user: " + NASTY + "\n",
        new SamplingParams(17, 0.5, 0.9, List.of("\n\n", "END", NASTY, ""), 1234L, 4096),
        1_700_000_000_123L,
        new TraceContext("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "vendor=x"),
        new ResumeState("the model " + NASTY, 2),
        "gateway-node-7",
        "switchboard.gateway.g1.streams",
        64,
        new NativeForm(NativeForm.MESSAGES, new JsonObject().put("system", NASTY).put("max_tokens", 5)));
  }

  private static GenerateRequest bareRequest() {
    return new GenerateRequest("s", "r", "m", RequestKind.COMPLETION, null, null, null, 0, null, null, null, null, 0,
        null);
  }

  private <T> Buffer encode(MessageCodec<T, T> codec, T message) {
    Buffer buffer = Buffer.buffer();
    codec.encodeToWire(buffer, message);
    return buffer;
  }

  private <T> T roundTrip(MessageCodec<T, T> codec, T message) {
    // As in an event-bus frame: the body follows the frame's own fields, at some position.
    Buffer frame = Buffer.buffer().appendString("frame header");
    int pos = frame.length();
    codec.encodeToWire(frame, message);
    return codec.decodeFromWire(pos, frame);
  }

  @Test
  void aRequestWithEveryFieldSetComesBackEqual() {
    GenerateRequest request = fullRequest();
    GenerateRequest back = roundTrip(requestCodec, request);
    assertThat(back).isEqualTo(request);
    assertThat(back.prompt()).isEqualTo(request.prompt());
    assertThat(back.body().getString("t")).isEqualTo(NASTY);
    assertThat(back.sampling().stop()).containsExactly("\n\n", "END", NASTY, "");
    assertThat(back.nativeForm().body().getString("system")).isEqualTo(NASTY);
  }

  @Test
  void aRequestWithEveryNullableFieldNullComesBackEqual() {
    GenerateRequest request = bareRequest();
    GenerateRequest back = roundTrip(requestCodec, request);
    assertThat(back).isEqualTo(request);
    assertThat(back.sampling()).isNull();
    assertThat(back.trace()).isEqualTo(TraceContext.NONE);
    assertThat(back.resume()).isEqualTo(ResumeState.EMPTY);
    assertThat(back.gatewayNodeId()).isNull();
    assertThat(back.nativeForm()).isNull();
    assertThat(back.body()).isEqualTo(new JsonObject());
  }

  @Test
  void samplingWithoutItsOptionalNumbersComesBackEqual() {
    GenerateRequest request = new GenerateRequest("s", "r", "m", RequestKind.CHAT, null, "p",
        new SamplingParams(null, 1.0, 1.0, null, null, null), 5, new TraceContext(null, "only=state"),
        new ResumeState("", 3), "node", "reply", 1);
    assertThat(roundTrip(requestCodec, request)).isEqualTo(request);
  }

  @ParameterizedTest
  @EnumSource(RequestKind.class)
  void everyRequestKindComesBack(RequestKind kind) {
    GenerateRequest request = new GenerateRequest("s", "r", "m", kind, null, "p", null, 0, null, null, null, "a", 1);
    assertThat(roundTrip(requestCodec, request).kind()).isEqualTo(kind);
  }

  @Test
  void aLargeRequestComesBackEqual() {
    String big = "x".repeat(2_000_000) + NASTY;
    JsonArray messages = new JsonArray();
    for (int i = 0; i < 2_000; i++) {
      messages.add(new JsonObject().put("role", "user").put("content", "message " + i + " " + NASTY));
    }
    GenerateRequest request = new GenerateRequest("s", "r", "m", RequestKind.CHAT,
        new JsonObject().put("messages", messages).put("big", big), big, null, 0, null,
        new ResumeState(big, 9), null, "a", 1);
    GenerateRequest back = roundTrip(requestCodec, request);
    assertThat(back).isEqualTo(request);
    assertThat(back.prompt()).hasSize(big.length());
  }

  @Test
  void stringsKeepTheirSurrogatesWithOrWithoutPairs() {
    for (String text : List.of(NASTY, LONE_AT_END, "\uDC00", "\uD800\uD800", "\uD83D\uDE00", "", "plain")) {
      TaggedChunk tagged = new TaggedChunk(text, StreamChunk.delta(0, text, 1));
      TaggedChunk back = roundTrip(chunkCodec, tagged);
      assertThat(back.chunk().text()).isEqualTo(text);
      assertThat(back.streamId()).isEqualTo(text);
    }
  }

  @Test
  void chunksOfEveryShapeComeBackEqual() {
    JsonObject extra = new JsonObject().put("delta", new JsonObject().put("tool_calls", new JsonArray()
        .add(new JsonObject().put("id", "call_1").put("arguments", "{\"a\":\"" + NASTY + "\"}"))))
        .put("logprobs", new JsonObject().put("content", new JsonArray().add(-0.25)));
    List<StreamChunk> chunks = List.of(
        StreamChunk.delta(0, " river", 1),
        StreamChunk.delta(Long.MAX_VALUE, NASTY, Integer.MAX_VALUE),
        StreamChunk.delta(3, "", 0, extra),
        StreamChunk.last(9, "", 0, "stop", new Usage(12, 9)),
        StreamChunk.last(10, "end", 2, "length", new Usage(12, 10, 7), extra),
        StreamChunk.failure(4, GenerateError.invalidField("tools", "no tools here: " + NASTY, "w-1")),
        StreamChunk.failure(5, new GenerateError(GenerateError.Code.WORKER_BUSY, null, true, null, null)),
        new StreamChunk(6, "partial", 1, null, new Usage(1, 1), GenerateError.of(GenerateError.Code.TOO_LARGE,
            "too large", "w-2"), extra));
    for (StreamChunk chunk : chunks) {
      TaggedChunk back = roundTrip(chunkCodec, new TaggedChunk("stream-1", chunk));
      assertThat(back).isEqualTo(new TaggedChunk("stream-1", chunk));
    }
  }

  @Test
  void everyErrorCodeComesBack() {
    for (GenerateError.Code code : GenerateError.Code.values()) {
      GenerateError error = GenerateError.of(code, "m", "w");
      assertThat(roundTrip(chunkCodec, new TaggedChunk("s", StreamChunk.failure(1, error))).chunk().error())
          .isEqualTo(error);
    }
  }

  /**
   * The layout of a plain token, byte for byte: header (length 4, version 1, kind 1, stream id 4 + 1), seq 8,
   * flags 1, tokens 4, text 4 + 2. No JSON: {@code extra} is the only JSON a chunk carries.
   */
  @Test
  void aPlainTokenIsThirtyBytesAndNoJson() {
    Buffer wire = encode(chunkCodec, new TaggedChunk("s", StreamChunk.delta(5, "hi", 1)));
    assertThat(wire.length()).isEqualTo(30);
    assertThat(wire.getInt(0)).as("length of what follows").isEqualTo(26);
    assertThat(wire.getByte(4)).as("version").isEqualTo((byte) PlaneWire.VERSION);
    assertThat(wire.getByte(5)).as("kind").isEqualTo(PlaneMessageKind.CHUNK.code);
    assertThat(wire.getString(10, 11)).isEqualTo("s");
    assertThat(wire.getLong(11)).as("seq").isEqualTo(5);
    assertThat(wire.getInt(20)).as("tokens").isEqualTo(1);
    assertThat(wire.getInt(24)).as("text's byte count").isEqualTo(2);
    assertThat(wire.getString(28, 30)).isEqualTo("hi");
  }

  @Test
  void controlMessagesComeBackEqual() {
    for (StreamControl control : List.of(StreamControl.credits("s-1", 32), StreamControl.cancel("s-1", NASTY),
        StreamControl.cancel("s-2", null), new StreamControl("s-3", 7, false, "odd but kept"))) {
      assertThat(roundTrip(controlCodec, control)).isEqualTo(control);
    }
  }

  @Test
  void controlMessagesKeepTheirJsonForm() {
    assertThat(StreamControl.credits("s", 5).toJson()).isEqualTo(new JsonObject().put("streamId", "s").put("credits", 5));
    assertThat(StreamControl.cancel("s", "gone").toJson())
        .isEqualTo(new JsonObject().put("streamId", "s").put("cancel", true).put("reason", "gone"));
    assertThat(StreamControl.fromJson(StreamControl.cancel("s", "gone").toJson())).isEqualTo(StreamControl.cancel("s", "gone"));
    assertThat(StreamControl.fromJson(StreamControl.credits("s", 5).toJson())).isEqualTo(StreamControl.credits("s", 5));
  }

  @Test
  void aMessageCutShortFailsClearlyAtEveryLength() {
    List<Buffer> messages = List.of(encode(requestCodec, fullRequest()), encode(requestCodec, bareRequest()),
        encode(chunkCodec, new TaggedChunk("stream-1", StreamChunk.last(10, "end", 2, "length", new Usage(1, 2, 3),
            new JsonObject().put("a", 1)))),
        encode(chunkCodec, new TaggedChunk("stream-1", StreamChunk.failure(4, GenerateError.of(
            GenerateError.Code.ENGINE_FAILED, "boom", "w-1")))),
        encode(controlCodec, StreamControl.cancel("stream-1", "bye")));
    List<MessageCodec<?, ?>> codecs = List.of(requestCodec, requestCodec, chunkCodec, chunkCodec, controlCodec);
    for (int m = 0; m < messages.size(); m++) {
      Buffer whole = messages.get(m);
      MessageCodec<?, ?> codec = codecs.get(m);
      for (int cut = 0; cut < whole.length(); cut++) {
        Buffer frameCut = whole.getBuffer(0, cut);
        assertThatThrownBy(() -> codec.decodeFromWire(0, frameCut)).as("cut at %d of %d", cut, whole.length())
            .isInstanceOf(PlaneWireException.class).hasMessageContaining("truncated");
        // A sender that wrote a consistent length for fewer fields: the fields run out before the message ends.
        if (cut >= 4) {
          Buffer shortened = whole.getBuffer(0, cut).setInt(0, cut - 4);
          assertThatThrownBy(() -> codec.decodeFromWire(0, shortened)).as("shortened to %d", cut)
              .isInstanceOf(PlaneWireException.class);
        }
      }
    }
  }

  @Test
  void aTruncatedMessageNamesItsStreamWhenItsHeaderIsWhole() {
    Buffer whole = encode(chunkCodec, new TaggedChunk("stream-9", StreamChunk.delta(1, "hello", 1)));
    Buffer cut = whole.getBuffer(0, whole.length() - 2);
    assertThatThrownBy(() -> chunkCodec.decodeFromWire(0, cut)).isInstanceOfSatisfying(PlaneWireException.class,
        e -> assertThat(e.streamId()).isEqualTo("stream-9"));
  }

  @Test
  void aMessageOfAnUnknownVersionFailsClearlyAndNamesItsStream() {
    Buffer wire = encode(requestCodec, fullRequest());
    wire.setByte(4, (byte) 3);
    assertThatThrownBy(() -> requestCodec.decodeFromWire(0, wire)).isInstanceOfSatisfying(PlaneWireException.class,
        e -> {
          assertThat(e.getMessage()).contains("version 3").contains("reads version 2");
          assertThat(e.streamId()).isEqualTo("stream-" + NASTY);
        });
    Buffer chunk = encode(chunkCodec, new TaggedChunk("s-1", StreamChunk.delta(0, "a", 1)));
    chunk.setByte(4, (byte) 1);
    assertThatThrownBy(() -> chunkCodec.decodeFromWire(0, chunk)).isInstanceOf(PlaneWireException.class)
        .hasMessageContaining("version 1");
  }

  @Test
  void aMessageOfAnotherKindFailsClearly() {
    Buffer control = encode(controlCodec, StreamControl.credits("s-1", 4));
    assertThatThrownBy(() -> chunkCodec.decodeFromWire(0, control)).isInstanceOfSatisfying(PlaneWireException.class,
        e -> {
          assertThat(e.getMessage()).contains("expected a stream chunk");
          assertThat(e.streamId()).isEqualTo("s-1");
        });
  }

  @Test
  void randomDamageNeverEscapesAsAnythingButAPlaneWireException() {
    Random random = new Random(42);
    List<Buffer> messages = List.of(encode(requestCodec, fullRequest()), encode(chunkCodec,
        new TaggedChunk("s", StreamChunk.last(1, "x", 1, "stop", new Usage(1, 1), new JsonObject().put("a", 1)))),
        encode(controlCodec, StreamControl.cancel("s", "r")));
    List<MessageCodec<?, ?>> codecs = List.of(requestCodec, chunkCodec, controlCodec);
    int readable = 0;
    for (int round = 0; round < 20_000; round++) {
      int m = round % messages.size();
      Buffer damaged = messages.get(m).copy();
      for (int flips = 1 + random.nextInt(3); flips > 0; flips--) {
        // Past the length: a damaged length is the truncation case above.
        damaged.setByte(4 + random.nextInt(damaged.length() - 4), (byte) random.nextInt(256));
      }
      try {
        codecs.get(m).decodeFromWire(0, damaged);
        readable++;
      } catch (PlaneWireException expected) {
        // refused clearly
      }
    }
    assertThat(readable).as("some damage (to text bytes) still reads").isPositive();
  }

  @Test
  void aDeliveryInTheSameNodePassesTheMessageItself() {
    GenerateRequest request = fullRequest();
    TaggedChunk chunk = new TaggedChunk("s", StreamChunk.delta(0, "a", 1));
    StreamControl control = StreamControl.credits("s", 1);
    assertThat(requestCodec.transform(request)).isSameAs(request);
    assertThat(chunkCodec.transform(chunk)).isSameAs(chunk);
    assertThat(controlCodec.transform(control)).isSameAs(control);
  }

  @Test
  @ExtendWith(VertxExtension.class)
  void codecsAreRegisteredOncePerVertxHoweverOftenAsked(Vertx vertx, VertxTestContext test) {
    PlaneWire.registerCodecs(vertx);
    PlaneWire.registerCodecs(vertx);
    vertx.eventBus().<Object>consumer("plane-wire-test", message -> message.reply(message.body()));
    vertx.eventBus().request("plane-wire-test", StreamControl.credits("s", 3))
        .onComplete(test.succeeding(reply -> test.verify(() -> {
          assertThat(reply.body()).isEqualTo(StreamControl.credits("s", 3));
          test.completeNow();
        })));
  }

  @Test
  void aWorkerPublishesTheVersionItReadsAndOlderRecordsReadAsJson() {
    JsonObject endpoints = new JsonObject().put(WorkerDescriptor.ENDPOINT_EVENTBUS, "addr")
        .put(WorkerDescriptor.ENDPOINT_EVENTBUS_WIRE, PlaneWire.VERSION);
    WorkerDescriptor current = WorkerDescriptor.fromJson(new JsonObject(
        new WorkerDescriptor("w", "n", "m", "mocker", 1, 8, endpoints).toJson().encode()));
    assertThat(current.eventBusWireVersion()).isEqualTo(2);
    assertThat(PlaneWire.readBy(current)).isTrue();
    assertThat(current.endpoints().getString(WorkerDescriptor.ENDPOINT_EVENTBUS)).as("what older gateways read")
        .isEqualTo("addr");
    WorkerDescriptor older = new WorkerDescriptor("w", "n", "m", "mocker", 1, 8,
        new JsonObject().put(WorkerDescriptor.ENDPOINT_EVENTBUS, "addr"));
    assertThat(older.eventBusWireVersion()).isEqualTo(PlaneWire.JSON_VERSION);
    assertThat(PlaneWire.readBy(older)).isFalse();
    WorkerDescriptor odd = new WorkerDescriptor("w", "n", "m", "mocker", 1, 8,
        new JsonObject().put(WorkerDescriptor.ENDPOINT_EVENTBUS_WIRE, "two"));
    assertThat(PlaneWire.readBy(odd)).isFalse();
  }
}
