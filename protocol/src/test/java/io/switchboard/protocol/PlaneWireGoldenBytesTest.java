package io.switchboard.protocol;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The binary plane format byte for byte: representative messages, each with its presence flags in every state that
 * matters (every optional field absent, all present, mixed; a chunk's error with and without each of its own optional
 * parts), encoded and compared with bytes captured from the version 2 codecs as they were when this test was written
 * (commit 8c683db). Nodes of that version must keep reading what this node writes, and the other way round, so these
 * bytes never change within the version: a failure here means the wire changed, not that the expectation is stale.
 * Each message is also read from those bytes, equal to what was written.
 *
 * <p>Expected bytes are hex, one field or group of fields a line (white space is ignored): the header's length,
 * version, kind and stream id first, then the fields as each codec's javadoc lists them.
 */
class PlaneWireGoldenBytesTest {

  private final GenerateRequestCodec requestCodec = new GenerateRequestCodec();
  private final TaggedChunkCodec chunkCodec = new TaggedChunkCodec();
  private final StreamControlCodec controlCodec = new StreamControlCodec();

  private static final String TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

  // ---- generate requests ----

  @Test
  void aRequestWithNoOptionalField() {
    assertWire(requestCodec, new GenerateRequest("s", "r", "m", RequestKind.COMPLETION, null, null, null, 0, null,
        null, null, null, 0, null),
        """
        00000038 02 01 00000001 73
        00000000
        00000001 72 00000001 6d 01
        00000002 7b7d 00000000
        0000000000000000
        00000000 00000000
        00000000 00000000
        """);
  }

  @Test
  void aRequestWithEveryOptionalField() {
    assertWire(requestCodec, new GenerateRequest("s1", "r1", "m", RequestKind.CHAT,
        new JsonObject().put("stream", true), "p",
        new SamplingParams(17, 0.5, 0.25, List.of("\n", "END"), 1234L, 4096), 1_700_000_000_123L,
        new TraceContext(TRACEPARENT, "v=x"), new ResumeState("so far", 2), "gw", "reply", 64,
        new NativeForm(NativeForm.MESSAGES, new JsonObject().put("max_tokens", 5))),
        """
        000000eb 02 01 00000002 7331
        000000ff
        00000002 7231 00000001 6d 00
        0000000f 7b2273747265616d223a747275657d 00000001 70
        3fe0000000000000 3fd0000000000000 00000002 00000001 0a 00000003 454e44
        00000011 00000000000004d2 00001000
        0000018bcfe5687b
        00000037
        30302d30616637363531393136636434336464383434386562323131
        633830333139632d623761643662373136393230333333312d3031 00000003 763d78
        00000006 736f20666172 00000002
        00000002 6777
        00000005 7265706c79 00000040
        00000008 6d65737361676573 00000010 7b226d61785f746f6b656e73223a357d
        """);
  }

  @Test
  void aRequestWithSamplingButNoMaxTokensSeedOrTokenCap() {
    assertWire(requestCodec, new GenerateRequest("s", "r", "m", RequestKind.EMBEDDING, null, "p",
        new SamplingParams(null, 1.0, 1.0, null, null, null), 5, new TraceContext(null, "only=state"),
        new ResumeState("", 3), "node", "reply", 1, null),
        """
        00000068 02 01 00000001 73
        00000061
        00000001 72 00000001 6d 02
        00000002 7b7d 00000001 70
        3ff0000000000000 3ff0000000000000 00000000
        0000000000000005
        0000000a 6f6e6c793d7374617465
        00000000 00000003
        00000004 6e6f6465
        00000005 7265706c79 00000001
        """);
  }

  @Test
  void aRequestWithSomeOptionalFields() {
    assertWire(requestCodec, new GenerateRequest("s", "r", "m", RequestKind.CHAT, null, "p",
        new SamplingParams(null, 0.75, 1.0, List.of("x"), 7L, null), 9, new TraceContext(TRACEPARENT, null),
        null, null, "reply", 8, new NativeForm(NativeForm.RESPONSES, new JsonObject().put("input", "hi"))),
        """
        000000b9 02 01 00000001 73
        00000095
        00000001 72 00000001 6d 00
        00000002 7b7d 00000001 70
        3fe8000000000000 3ff0000000000000 00000001 00000001 78
        0000000000000007
        0000000000000009
        00000037
        30302d30616637363531393136636434336464383434386562323131
        633830333139632d623761643662373136393230333333312d3031
        00000000 00000000
        00000005 7265706c79 00000008
        00000009 726573706f6e736573 0000000e 7b22696e707574223a226869227d
        """);
  }

  @Test
  void aRequestWithMaxTokensAndTokenCapButNoSeed() {
    assertWire(requestCodec, new GenerateRequest("s", "r", "m", RequestKind.CHAT, null, "p",
        new SamplingParams(5, 1.0, 1.0, null, null, 100), 0, null, null, "gw", "reply", 2, null),
        """
        00000060 02 01 00000001 73
        0000004b
        00000001 72 00000001 6d 00
        00000002 7b7d 00000001 70
        3ff0000000000000 3ff0000000000000 00000000
        00000005 00000064
        0000000000000000
        00000000 00000000
        00000002 6777
        00000005 7265706c79 00000002
        """);
  }

  // ---- chunks ----

  @Test
  void aPlainToken() {
    assertWire(chunkCodec, new TaggedChunk("s", StreamChunk.delta(5, "hi", 1)),
        """
        0000001a 02 02 00000001 73
        0000000000000005 01 00000001
        00000002 6869
        """);
  }

  @Test
  void aChunkWithNoOptionalField() {
    assertWire(chunkCodec, new TaggedChunk("s", new StreamChunk(0, "", 0, null, null, null, null)),
        """
        00000014 02 02 00000001 73
        0000000000000000 00 00000000
        """);
  }

  @Test
  void aTokenWithALoneSurrogate() {
    assertWire(chunkCodec, new TaggedChunk("s", StreamChunk.delta(1, "a\uD800", 1)),
        """
        0000001c 02 02 00000001 73
        0000000000000001 01 00000001
        fffffffe 0061d800
        """);
  }

  @Test
  void aLastChunkWithFinishReasonAndUsage() {
    assertWire(chunkCodec, new TaggedChunk("s", StreamChunk.last(9, "", 0, "stop", new Usage(12, 9))),
        """
        00000028 02 02 00000001 73
        0000000000000009 06 00000000
        00000004 73746f70
        0000000c 00000009 00000000
        """);
  }

  @Test
  void aLastChunkWithTextUsageAndExtra() {
    assertWire(chunkCodec, new TaggedChunk("s", StreamChunk.last(10, "end", 2, "length", new Usage(12, 10, 7),
        new JsonObject().put("logprobs", new JsonArray().add(-0.25)))),
        """
        00000049 02 02 00000001 73
        000000000000000a 17 00000002
        00000003 656e64
        00000006 6c656e677468
        0000000c 0000000a 00000007
        00000014 7b226c6f6770726f6273223a5b2d302e32355d7d
        """);
  }

  @Test
  void aChunkWithEveryOptionalField() {
    assertWire(chunkCodec, new TaggedChunk("s", new StreamChunk(6, "partial", 1, "stop", new Usage(1, 2, 3),
        new GenerateError(GenerateError.Code.INVALID_REQUEST, "no tools", true, "w-2", "tools"),
        new JsonObject().put("a", 1))),
        """
        0000005f 02 02 00000001 73
        0000000000000006 1f 00000001
        00000007 7061727469616c
        00000004 73746f70
        00000001 00000002 00000003
        0f 00000003 00000008 6e6f20746f6f6c73 00000003 772d32 00000005 746f6f6c73
        00000007 7b2261223a317d
        """);
  }

  @Test
  void anErrorWithNoOptionalPart() {
    assertWire(chunkCodec, failure(new GenerateError(GenerateError.Code.DEADLINE_EXCEEDED, null, false, null, null)),
        """
        00000019 02 02 00000001 73
        0000000000000003 08 00000000
        00 00000005
        """);
  }

  @Test
  void anErrorWithOnlyAMessage() {
    assertWire(chunkCodec, failure(new GenerateError(GenerateError.Code.ENGINE_FAILED, "boom", false, null, null)),
        """
        00000021 02 02 00000001 73
        0000000000000003 08 00000000
        01 00000004 00000004 626f6f6d
        """);
  }

  @Test
  void anErrorWithOnlyAWorker() {
    assertWire(chunkCodec, failure(new GenerateError(GenerateError.Code.CANCELLED, null, false, "w-1", null)),
        """
        00000020 02 02 00000001 73
        0000000000000003 08 00000000
        02 00000007 00000003 772d31
        """);
  }

  @Test
  void anErrorWithOnlyAParam() {
    assertWire(chunkCodec, failure(new GenerateError(GenerateError.Code.INVALID_REQUEST, null, false, null, "tools")),
        """
        00000022 02 02 00000001 73
        0000000000000003 08 00000000
        04 00000003 00000005 746f6f6c73
        """);
  }

  @Test
  void anErrorThatIsOnlyRetryable() {
    assertWire(chunkCodec, failure(new GenerateError(GenerateError.Code.WORKER_BUSY, null, true, null, null)),
        """
        00000019 02 02 00000001 73
        0000000000000003 08 00000000
        08 00000002
        """);
  }

  @Test
  void anErrorWithEveryOptionalPart() {
    assertWire(chunkCodec, failure(new GenerateError(GenerateError.Code.MODEL_NOT_SERVED, "no", true, "w", "model")),
        """
        0000002d 02 02 00000001 73
        0000000000000003 08 00000000
        0f 00000001 00000002 6e6f 00000001 77 00000005 6d6f64656c
        """);
  }

  // ---- stream control ----

  @Test
  void aCreditGrant() {
    assertWire(controlCodec, StreamControl.credits("s-1", 32),
        """
        0000000e 02 03 00000003 732d31
        00 00000020
        """);
  }

  @Test
  void aCancelWithAReason() {
    assertWire(controlCodec, StreamControl.cancel("s-1", "gone"),
        """
        00000016 02 03 00000003 732d31
        03 00000000
        00000004 676f6e65
        """);
  }

  @Test
  void aCancelWithoutAReason() {
    assertWire(controlCodec, StreamControl.cancel("s-2", null),
        """
        0000000e 02 03 00000003 732d32
        01 00000000
        """);
  }

  @Test
  void creditsWithAReason() {
    assertWire(controlCodec, new StreamControl("s-3", 7, false, "kept"),
        """
        00000016 02 03 00000003 732d33
        02 00000007
        00000004 6b657074
        """);
  }

  private static TaggedChunk failure(GenerateError error) {
    return new TaggedChunk("s", StreamChunk.failure(3, error));
  }

  private static <T> void assertWire(MessageCodec<T, T> codec, T message, String expectedHex) {
    Buffer wire = Buffer.buffer();
    codec.encodeToWire(wire, message);
    String expected = expectedHex.replaceAll("\\s", "");
    assertThat(HexFormat.of().formatHex(wire.getBytes())).isEqualTo(expected);
    assertThat(codec.decodeFromWire(0, Buffer.buffer(HexFormat.of().parseHex(expected)))).isEqualTo(message);
  }
}
