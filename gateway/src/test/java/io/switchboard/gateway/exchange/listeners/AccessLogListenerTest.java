package io.switchboard.gateway.exchange.listeners;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.switchboard.gateway.exchange.ExchangeFacts;
import io.switchboard.gateway.exchange.ExchangeOutcome;
import io.switchboard.gateway.exchange.GenerationExchange;
import io.switchboard.gateway.http.ApiError;
import io.switchboard.protocol.Usage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

class AccessLogListenerTest {

  private final ListAppender<ILoggingEvent> captured = new ListAppender<>();
  private Logger exchangeLog;
  private Level level;

  @BeforeEach
  void capture() {
    LoggerContext logs = (LoggerContext) LoggerFactory.getILoggerFactory();
    exchangeLog = logs.getLogger(GenerationExchange.class);
    level = exchangeLog.getLevel();
    exchangeLog.setLevel(Level.INFO);
    captured.setContext(logs);
    captured.start();
    exchangeLog.addAppender(captured);
  }

  @AfterEach
  void release() {
    exchangeLog.detachAppender(captured);
    exchangeLog.setLevel(level);
  }

  @Test
  void aCompletedRequestWritesOneLineWithTheAccessLogsFieldsUnderTheExchangesLogger() {
    ExchangeFacts exchange = ListenerFixtures.facts("chat_completions", "m", true, null);
    new AccessLogListener("node-1").finished(new ExchangeOutcome(exchange, 200, null, new Usage(5, 3, 2), "stop",
        "w1", "prefix", 12_345_678, 98_765_432, 1, 3));

    assertThat(captured.list).hasSize(1);
    ILoggingEvent line = captured.list.get(0);
    assertThat(line.getLevel()).isEqualTo(Level.INFO);
    assertThat(line.getLoggerName()).isEqualTo(GenerationExchange.class.getName());
    assertThat(line.getMessage()).isEqualTo("request completed");
    assertThat(Arrays.stream(line.getArgumentArray()).map(String::valueOf)).containsExactly(
        "requestId=req-1", "traceId=" + ListenerFixtures.TRACE_ID, "node=node-1", "model=m",
        "servedModel=m", "workerId=w1",
        "routedBecause=prefix", "status=200", "stream=true", "finishReason=stop", "promptTokens=5",
        "completionTokens=3", "cachedTokens=2", "ttftMs=12", "durationMs=98");
  }

  @Test
  void aRequestWithoutTextSaysSoInItsTimeToFirstToken() {
    ExchangeFacts exchange = ListenerFixtures.facts("embeddings", "e", false, null);
    new AccessLogListener("node-1").finished(new ExchangeOutcome(exchange, 200, null, new Usage(4, 0), null,
        "w1", "turn", -1, 3_000_000, 0, 0));

    assertThat(Arrays.stream(captured.list.get(0).getArgumentArray()).map(String::valueOf))
        .contains("ttftMs=null", "finishReason=null", "durationMs=3");
  }

  @Test
  void failedAndAbandonedRequestsAreNotInTheAccessLog() {
    ExchangeFacts exchange = ListenerFixtures.facts("chat_completions", "m", true, null);
    AccessLogListener listener = new AccessLogListener("node-1");
    listener.finished(new ExchangeOutcome(exchange, 503, new ApiError(503, "service_unavailable_error",
        "no_healthy_workers", "model", "none"), null, null, null, null, -1, 1_000_000, 0, 0));
    listener.finished(new ExchangeOutcome(exchange, 499, null, new Usage(5, 3), "stop", "w1", "load", 1_000_000,
        2_000_000, 0, 3));

    assertThat(captured.list).isEmpty();
  }
}
