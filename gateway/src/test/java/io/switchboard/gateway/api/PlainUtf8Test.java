package io.switchboard.gateway.api;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class PlainUtf8Test {

  /** What the check must agree with: Java's strict decoder, plus "no NUL byte". */
  private static boolean strictlyPlain(byte[] bytes) {
    for (byte b : bytes) {
      if (b == 0) {
        return false;
      }
    }
    try {
      StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes));
      return true;
    } catch (CharacterCodingException malformed) {
      return false;
    }
  }

  @Test
  void agreesWithTheStrictDecoderOnEveryBoundaryOfEverySequenceLength() {
    int[] interesting = {0x00, 0x01, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1,
        0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF, 'a'};
    for (int a : interesting) {
      for (int b : interesting) {
        for (int c : interesting) {
          for (int d : interesting) {
            byte[] bytes = {(byte) a, (byte) b, (byte) c, (byte) d};
            assertThat(PlainUtf8.check(bytes)).as("%02x %02x %02x %02x", a, b, c, d).isEqualTo(strictlyPlain(bytes));
            byte[] three = {(byte) a, (byte) b, (byte) c};
            assertThat(PlainUtf8.check(three)).as("%02x %02x %02x", a, b, c).isEqualTo(strictlyPlain(three));
          }
        }
      }
    }
  }

  @Test
  void agreesWithTheStrictDecoderOnRandomTextAndDamagedText() {
    SplittableRandom random = new SplittableRandom(20261204);
    for (int round = 0; round < 20_000; round++) {
      StringBuilder text = new StringBuilder();
      int length = random.nextInt(40);
      for (int i = 0; i < length; i++) {
        int kind = random.nextInt(10);
        int codePoint = kind < 5 ? 0x20 + random.nextInt(0x5F)
            : kind < 7 ? 0x80 + random.nextInt(0x780)
            : kind < 9 ? 0x800 + random.nextInt(0xD000)
            : 0x10000 + random.nextInt(0x100000);
        text.appendCodePoint(codePoint);
      }
      byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
      assertThat(PlainUtf8.check(bytes)).isEqualTo(strictlyPlain(bytes));
      if (bytes.length > 0) {
        // One byte changed, or the text cut short: often malformed, sometimes not.
        byte[] damaged = bytes.clone();
        damaged[random.nextInt(damaged.length)] = (byte) random.nextInt(256);
        assertThat(PlainUtf8.check(damaged)).as("%s", Buffer.buffer(damaged)).isEqualTo(strictlyPlain(damaged));
        byte[] cut = java.util.Arrays.copyOf(bytes, random.nextInt(bytes.length));
        assertThat(PlainUtf8.check(cut)).isEqualTo(strictlyPlain(cut));
      }
    }
  }

  @Test
  void aBodyTheByteParserReadsIsTheSameObjectTheTextParserReads() {
    SplittableRandom random = new SplittableRandom(7);
    for (int round = 0; round < 2_000; round++) {
      StringBuilder content = new StringBuilder();
      for (int i = 0; i < random.nextInt(30); i++) {
        content.appendCodePoint(random.nextBoolean() ? 0x20 + random.nextInt(0x5F) : 0xA0 + random.nextInt(0x10000 - 0xA0));
      }
      String text = content.toString();
      if (text.codePoints().anyMatch(cp -> cp >= 0xD800 && cp <= 0xDFFF)) {
        continue;
      }
      byte[] body = new JsonObject().put("model", "m").put("content", text).put("n", random.nextInt())
          .put("t", random.nextDouble()).toBuffer().getBytes();
      assertThat(PlainUtf8.check(body)).isTrue();
      assertThat((Object) Json.CODEC.fromBuffer(Buffer.buffer(body), Object.class))
          .isEqualTo(Json.decodeValue(new String(body, StandardCharsets.UTF_8)));
    }
  }

  @Test
  void aNulByteIsLeftToTheStrictPath() {
    assertThat(PlainUtf8.check("{\"a\":1}".getBytes(StandardCharsets.UTF_8))).isTrue();
    assertThat(PlainUtf8.check(new byte[] {0, '{', 0, '}'})).isFalse();
    assertThat(PlainUtf8.check(new byte[] {'{', '"', 'a', '"', ':', '1', '}', 0, ' ', ' '})).isFalse();
    assertThat(PlainUtf8.check(new byte[0])).isTrue();
  }
}
