package io.switchboard.node;

import ch.qos.logback.classic.LoggerContext;
import org.slf4j.LoggerFactory;

/** Writes out queued log events (the console appender is asynchronous) before the process ends. */
final class LogFlusher {

  private LogFlusher() {
  }

  static void flush() {
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
      context.stop();
    }
  }
}
