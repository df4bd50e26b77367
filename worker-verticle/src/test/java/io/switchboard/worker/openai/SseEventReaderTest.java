package io.switchboard.worker.openai;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SseEventReaderTest {

  private final List<String> events = new ArrayList<>();
  private final List<String> failures = new ArrayList<>();
  private int ends;
  private final SseEventReader reader = new SseEventReader(
      (data, offset, length) -> events.add(new String(data, offset, length, StandardCharsets.UTF_8)), failures::add, () -> ends++);

  @Test
  void eachEventsDataIsHandedOverWhenItsBlankLineArrives() {
    reader.write(Buffer.buffer("data: {\"a\":1}\n\ndata: {\"b\":2}\n"));
    assertThat(events).containsExactly("{\"a\":1}");

    reader.write(Buffer.buffer("\ndata: [DONE]\n\n"));
    reader.end();

    assertThat(events).containsExactly("{\"a\":1}", "{\"b\":2}", "[DONE]");
    assertThat(ends).isEqualTo(1);
    assertThat(failures).isEmpty();
  }

  @Test
  void linesMayEndInCrlfOrCrEvenWhenTheCrAndLfArriveApart() {
    reader.write(Buffer.buffer("data: one\r"));
    reader.write(Buffer.buffer("\ndata: two\r\n\r"));
    reader.write(Buffer.buffer("\ndata: three\r\r"));
    reader.end();

    assertThat(events).containsExactly("one\ntwo", "three");
  }

  @Test
  void byteByByteGivesTheSameEventsAsAllAtOnceIncludingSplitUtf8() {
    String stream = "\uFEFF: a comment\nevent: delta\nid: 7\nretry: 100\ndata: héllo 🌍\ndata:second line\n"
        + "data\ndatabase: not data\n\ndata: {\"text\":\"日本\"}\n\n";
    byte[] bytes = stream.getBytes(StandardCharsets.UTF_8);
    for (byte b : bytes) {
      reader.write(Buffer.buffer(new byte[] {b}));
    }
    reader.end();
    List<String> byteByByte = List.copyOf(events);

    events.clear();
    SseEventReader whole = new SseEventReader((data, offset, length) -> events.add(new String(data, offset, length, StandardCharsets.UTF_8)),
        failures::add, () -> { });
    whole.write(Buffer.buffer(bytes));
    whole.end();

    assertThat(byteByByte).containsExactly("héllo 🌍\nsecond line\n", "{\"text\":\"日本\"}");
    assertThat(events).isEqualTo(byteByByte);
  }

  @Test
  void aPauseHoldsTheNextEventsAndTheEndUntilResume() {
    SseEventReader[] self = new SseEventReader[1];
    self[0] = new SseEventReader((data, offset, length) -> {
      events.add(new String(data, offset, length, StandardCharsets.UTF_8));
      self[0].pause();
    }, failures::add, () -> ends++);

    self[0].write(Buffer.buffer("data: 1\n\ndata: 2\n\ndata: 3\n\n"));
    self[0].end();
    assertThat(events).containsExactly("1");
    assertThat(ends).isZero();

    self[0].resume();
    assertThat(events).containsExactly("1", "2");
    self[0].resume();
    self[0].resume();
    assertThat(events).containsExactly("1", "2", "3");
    assertThat(ends).isEqualTo(1);
  }

  @Test
  void aLastEventWithoutItsBlankLineIsStillHandedOverAtTheEnd() {
    reader.write(Buffer.buffer("data: {\"a\":1}\n\ndata: [DONE]"));
    reader.end();

    assertThat(events).containsExactly("{\"a\":1}", "[DONE]");
    assertThat(ends).isEqualTo(1);
  }

  @Test
  void manyEventsAcrossManyWritesKeepTheirOrder() {
    StringBuilder stream = new StringBuilder();
    for (int i = 0; i < 5_000; i++) {
      stream.append("data: {\"i\":").append(i).append("}\n\n");
    }
    byte[] bytes = stream.toString().getBytes(StandardCharsets.UTF_8);
    for (int from = 0; from < bytes.length; from += 777) {
      reader.write(Buffer.buffer(Arrays.copyOfRange(bytes, from, Math.min(bytes.length, from + 777))));
    }
    reader.end();

    assertThat(events).hasSize(5_000);
    for (int i = 0; i < 5_000; i++) {
      assertThat(events.get(i)).isEqualTo("{\"i\":" + i + "}");
    }
  }

  @Test
  void aDataLineReadBeforeTheInputMovesIsHandedOverIntact() {
    // The data line is complete, its blank line comes with a write that makes the reader move its input.
    reader.write(Buffer.buffer("data: first line of its own\n"));
    String big = "x".repeat(10_000);
    reader.write(Buffer.buffer("\ndata: " + big + "\n\ndata: a\ndata: b\n"));
    reader.write(Buffer.buffer("\ndata: "));
    reader.write(Buffer.buffer("x".repeat(20_000)));
    reader.write(Buffer.buffer("\n"));
    reader.write(Buffer.buffer("z".repeat(30_000))); // a line that is not data, moving the input again
    reader.write(Buffer.buffer("\n\n"));
    reader.end();

    assertThat(events).containsExactly("first line of its own", big, "a\nb", "x".repeat(20_000));
  }

  @Test
  void lineEndsAreFoundAtEveryPlaceInAnEightByteWord() {
    for (int pad = 0; pad < 20; pad++) {
      events.clear();
      SseEventReader fresh = new SseEventReader(
          (data, offset, length) -> events.add(new String(data, offset, length, StandardCharsets.UTF_8)),
          failures::add, () -> { });
      String text = "y".repeat(pad);
      fresh.write(Buffer.buffer("data: " + text + "\r\n\r\ndata: " + text + "z\n\n:" + text + "\rdata: end\r\r"));
      fresh.end();
      assertThat(events).as("pad %d", pad).containsExactly(text, text + "z", "end");
    }
  }

  @Test
  void anEventLargerThanTheLimitFailsTheStreamOnce() {
    byte[] chunk = new byte[1024 * 1024];
    Arrays.fill(chunk, (byte) 'x');
    reader.write(Buffer.buffer("data: "));
    for (int i = 0; i < 20; i++) {
      reader.write(Buffer.buffer(chunk));
    }
    reader.write(Buffer.buffer("\n\ndata: after\n\n"));
    reader.end();

    assertThat(failures).containsExactly("an event is larger than " + SseEventReader.MAX_EVENT_BYTES + " bytes");
    assertThat(events).isEmpty();
    assertThat(ends).isZero();
  }
}
