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
      data -> events.add(new String(data, StandardCharsets.UTF_8)), failures::add, () -> ends++);

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
    SseEventReader whole = new SseEventReader(data -> events.add(new String(data, StandardCharsets.UTF_8)),
        failures::add, () -> { });
    whole.write(Buffer.buffer(bytes));
    whole.end();

    assertThat(byteByByte).containsExactly("héllo 🌍\nsecond line\n", "{\"text\":\"日本\"}");
    assertThat(events).isEqualTo(byteByByte);
  }

  @Test
  void aPauseHoldsTheNextEventsAndTheEndUntilResume() {
    SseEventReader[] self = new SseEventReader[1];
    self[0] = new SseEventReader(data -> {
      events.add(new String(data, StandardCharsets.UTF_8));
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
