package io.switchboard.gateway.exchange;

import io.switchboard.gateway.api.CompletionRequest;
import io.switchboard.gateway.tracing.RequestSpans;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.Usage;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ExchangeListenersTest {

  private static final ExchangeFacts FACTS = new ExchangeFacts("req-1", "chat_completions",
      new CompletionRequest(RequestKind.CHAT, "m", new JsonObject(), "hi", null, true, false), "m", null,
      RequestSpans.propagateOnly().start("chat_completions m", null, null));

  /** Writes down the events it is told, by name. */
  private static final class Recording implements ExchangeListener {
    private final String name;
    private final List<String> events;

    Recording(String name, List<String> events) {
      this.name = name;
      this.events = events;
    }

    @Override
    public void started(ExchangeFacts exchange) {
      events.add(name + " started " + exchange.requestId());
    }

    @Override
    public void interToken(ExchangeFacts exchange, long gapNanos) {
      events.add(name + " interToken " + gapNanos);
    }

    @Override
    public void generationEnded(ExchangeFacts exchange, Usage usage, int completionTokensSoFar) {
      events.add(name + " generationEnded " + completionTokensSoFar);
    }

    @Override
    public void finished(ExchangeOutcome outcome) {
      events.add(name + " finished " + outcome.status());
    }
  }

  /** Takes only the request's end. */
  private static final class EndOnly implements ExchangeListener {
    private final List<String> events;

    EndOnly(List<String> events) {
      this.events = events;
    }

    @Override
    public void finished(ExchangeOutcome outcome) {
      events.add("end finished " + outcome.status());
    }
  }

  @Test
  void everyListenerIsToldOfEachEventInTheOrderTheyWereGiven() {
    List<String> events = new ArrayList<>();
    ExchangeListeners listeners = new ExchangeListeners(List.of(new Recording("a", events), new EndOnly(events),
        new Recording("b", events)));

    listeners.started(FACTS);
    listeners.interToken(FACTS, 42);
    listeners.generationEnded(FACTS, null, 7);
    listeners.finished(new ExchangeOutcome(FACTS, 499, null, null, null, "w1", "load", -1, 1_000_000, 0, 7));

    assertThat(events).containsExactly("a started req-1", "b started req-1", "a interToken 42", "b interToken 42",
        "a generationEnded 7", "b generationEnded 7", "a finished 499", "end finished 499", "b finished 499");
  }

  @Test
  void thePerChunkEventReachesOnlyTheListenersThatTakeIt() {
    List<String> events = new ArrayList<>();
    ExchangeListeners listeners = new ExchangeListeners(List.of(new EndOnly(events), new Recording("a", events),
        new EndOnly(events)));

    assertThat(listeners.perChunkCount()).isEqualTo(1);
    listeners.interToken(FACTS, 5);
    assertThat(events).containsExactly("a interToken 5");
    assertThat(new ExchangeListeners(List.of()).perChunkCount()).isZero();
  }
}
