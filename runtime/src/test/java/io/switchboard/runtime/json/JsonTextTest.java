package io.switchboard.runtime.json;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class JsonTextTest {

  /** Characters that need escaping or several UTF-8 bytes, mixed with plain ones. */
  private static String randomText(Random random) {
    String pool = "ab \"\\/\b\t\n\f\r\u0000\u0001\u001f\u007f é日本\u2028";
    StringBuilder text = new StringBuilder();
    for (int i = random.nextInt(30); i > 0; i--) {
      if (random.nextInt(8) == 0) {
        text.appendCodePoint(0x1F300 + random.nextInt(200)); // astral: a surrogate pair
      } else {
        text.append(pool.charAt(random.nextInt(pool.length())));
      }
    }
    return text.toString();
  }

  private static Object randomValue(Random random, int depth) {
    int pick = random.nextInt(depth > 3 ? 8 : 10);
    return switch (pick) {
      case 0 -> null;
      case 1, 2 -> randomText(random);
      case 3 -> random.nextInt();
      case 4 -> random.nextLong();
      case 5 -> random.nextBoolean();
      case 6 -> new double[] {random.nextDouble(), 1e300 * random.nextDouble(), 0.7, -0.0, 1.0, 12345678.9}[
          random.nextInt(6)];
      case 7 -> random.nextBoolean() ? new BigInteger("123456789012345678901234567890")
          : new BigDecimal("1.000000000000000000001");
      case 8 -> randomObject(random, depth + 1);
      default -> {
        List<Object> list = new ArrayList<>();
        for (int i = random.nextInt(5); i > 0; i--) {
          list.add(randomValue(random, depth + 1));
        }
        yield random.nextBoolean() ? new JsonArray(list) : list;
      }
    };
  }

  private static Object randomObject(Random random, int depth) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = random.nextInt(6); i > 0; i--) {
      map.put(randomText(random), randomValue(random, depth));
    }
    return random.nextBoolean() ? new JsonObject(map) : map;
  }

  @Test
  void aTreeIsWrittenByteForByteAsVertxEncodesIt() {
    Random random = new Random(20261204);
    for (int i = 0; i < 3_000; i++) {
      Object tree = randomObject(random, 0);
      JsonObject object = tree instanceof JsonObject json ? json : new JsonObject(castMap(tree));
      // encode() writes text as it is; toBuffer() writes astral characters as escapes. Both read the same.
      String expected = object.encode();
      Buffer written = JsonText.buffer(object);
      assertThat(written.toString(StandardCharsets.UTF_8)).isEqualTo(expected);
      assertThat(JsonText.text(object)).isEqualTo(expected);
      assertThat(new JsonObject(written)).isEqualTo(new JsonObject(object.toBuffer()));
    }
  }

  @Test
  void aTreeIsWrittenByteForByteAsVertxWritesItToTheWire() {
    Random random = new Random(20261206);
    for (int i = 0; i < 3_000; i++) {
      Object tree = randomObject(random, 0);
      JsonObject object = tree instanceof JsonObject json ? json : new JsonObject(castMap(tree));
      assertThat(JsonText.toBuffer(object).getBytes()).as(object.encode()).isEqualTo(object.toBuffer().getBytes());
    }
    JsonObject odd = new JsonObject().put("a", "x\ud800y\udc00 \ud83d\ude00").put("when", 1);
    assertThat(JsonText.toBuffer(odd).getBytes()).isEqualTo(odd.toBuffer().getBytes());
  }

  @Test
  void aRequestBodyReadsBackAsItWasRead() {
    String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"h\\u00e9 \\\"x\\\" \\ud83d\\ude00\"}],"
        + "\"temperature\":0.7,\"max_tokens\":16,\"stop\":null,\"stream\":false,\"logit_bias\":{\"50256\":-100},"
        + "\"seed\":12345678901234}";
    JsonObject read = new JsonObject(body);
    assertThat(new JsonObject(JsonText.buffer(read))).isEqualTo(read);
    assertThat(JsonText.buffer(read).toString()).isEqualTo(read.encode());
  }

  @Test
  void aSurrogateWithoutItsPairIsAnEscapeSoNoTextChanges() {
    JsonObject read = new JsonObject("{\"a\":\"x\\ud800y\",\"b\":\"\\udc00\",\"c\":\"\\ud83d\"}");
    Buffer written = JsonText.buffer(read);
    assertThat(written.toString()).isEqualTo("{\"a\":\"x\\uD800y\",\"b\":\"\\uDC00\",\"c\":\"\\uD83D\"}");
    assertThat(new JsonObject(written)).isEqualTo(read);
  }

  @Test
  void aValueItDoesNotKnowLeavesTheObjectToVertx() {
    JsonObject odd = new JsonObject().put("when", Instant.parse("2026-12-04T10:00:00Z")).put("bytes", new byte[] {1, 2})
        .put("n", 1);
    assertThat(JsonText.buffer(odd)).isEqualTo(odd.toBuffer());
    assertThat(JsonText.text(odd)).isEqualTo(odd.encode());
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> castMap(Object tree) {
    return (Map<String, Object>) tree;
  }
}
