package io.switchboard.gateway.exchange.listeners;

import io.switchboard.gateway.exchange.ExchangeFacts;
import io.switchboard.gateway.exchange.ExchangeOutcome;
import io.switchboard.gateway.tracing.RequestSpans;
import io.switchboard.protocol.Usage;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/** The span goes to a plain HTTP server standing in for an OTLP collector, which keeps the protobuf bodies. */
@ExtendWith(VertxExtension.class)
class SpanListenerTest {

  private final List<Buffer> exported = new CopyOnWriteArrayList<>();

  @Test
  void theRequestsSpanEndsWithItsOutcome(Vertx vertx) throws Exception {
    HttpServer collector = vertx.createHttpServer().requestHandler(request -> request.body().onSuccess(body -> {
      exported.add(body);
      request.response().setStatusCode(200).putHeader("content-type", "application/x-protobuf").end();
    })).listen(0, "127.0.0.1").await(10, SECONDS);
    RequestSpans spans = RequestSpans.exportingTo("http://127.0.0.1:" + collector.actualPort() + "/v1/traces",
        "node-1");
    ExchangeFacts exchange = ListenerFixtures.facts("messages", "span-llm", true, null, spans);
    assertThat(exchange.span().recording()).isTrue();

    new SpanListener().finished(new ExchangeOutcome(exchange, 200, null, new Usage(5, 3), "stop", "span-worker",
        "session", 12_000_000, 40_000_000, 1, 3));
    // Exports what is left and waits for the collector's answer: on this thread, as the event loop serves it.
    spans.close();

    byte[] sent = exported.stream().map(Buffer::getBytes).reduce(new byte[0], SpanListenerTest::concat);
    assertThat(contains(sent, HexFormat.of().parseHex(ListenerFixtures.TRACE_ID))).as("the client's trace").isTrue();
    for (String expected : List.of("messages span-llm", "switchboard.request_id", "req-1", "gen_ai.request.model",
        "span-llm", "switchboard.worker", "span-worker", "switchboard.routed_because", "session",
        "switchboard.stream", "switchboard.migrations", "switchboard.ttft_ms", "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens", "http.response.status_code")) {
      assertThat(contains(sent, expected.getBytes(StandardCharsets.UTF_8))).as(expected).isTrue();
    }
  }

  @Test
  void aSpanThatIsNotRecordedIsLeftAlone() {
    ExchangeFacts exchange = ListenerFixtures.facts("chat_completions", "m", false, null);
    assertThat(exchange.span().recording()).isFalse();
    new SpanListener().finished(new ExchangeOutcome(exchange, 200, null, new Usage(1, 1), "stop", "w1", "load",
        1_000_000, 2_000_000, 0, 1));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] both = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, both, a.length, b.length);
    return both;
  }

  private static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }
}
