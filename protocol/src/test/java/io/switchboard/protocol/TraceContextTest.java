package io.switchboard.protocol;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class TraceContextTest {

  @Test
  void aCallersTraceIsContinuedWithANewSpanAndItsState() {
    String parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    TraceContext next = TraceContext.continueOrStart(parent, "vendor=1", new Random(1));

    assertThat(next.traceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    assertThat(next.traceparent()).matches("00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01")
        .isNotEqualTo(parent);
    assertThat(next.tracestate()).isEqualTo("vendor=1");
  }

  @Test
  void withoutAValidTraceparentANewTraceStarts() {
    for (String bad : new String[] {null, "", "garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}) {
      TraceContext started = TraceContext.continueOrStart(bad, "dropped=1", new Random(2));
      assertThat(started.traceparent()).as(String.valueOf(bad)).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01");
      assertThat(started.traceId()).isNotEqualTo("00000000000000000000000000000000");
      assertThat(started.tracestate()).isNull();
    }
  }

  @Test
  void anOversizedTracestateIsNotPassedOn() {
    String parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    String longest = "v=" + "x".repeat(TraceContext.MAX_TRACESTATE_CHARS - 2);
    assertThat(TraceContext.continueOrStart(parent, longest, new Random(3)).tracestate()).isEqualTo(longest);
    assertThat(TraceContext.continueOrStart(parent, longest + "x", new Random(3)).tracestate()).isNull();
    assertThat(TraceContext.continueOrStart(parent, "v=" + "x".repeat(16_000), new Random(3)).tracestate())
        .as("a client's 16 KB header does not ride along to every worker").isNull();
  }
}
