package io.switchboard.bench;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/** Splits an SSE byte stream into the payloads of its {@code data:} lines, whatever the chunking. */
final class SseEvents {

  private final Consumer<String> onData;
  private Buffer pending = Buffer.buffer();

  SseEvents(Consumer<String> onData) {
    this.onData = onData;
  }

  void feed(Buffer buffer) {
    pending.appendBuffer(buffer);
    int lineStart = 0;
    for (int i = 0; i < pending.length(); i++) {
      if (pending.getByte(i) == '\n') {
        String line = pending.getString(lineStart, i, StandardCharsets.UTF_8.name()).stripTrailing();
        if (line.startsWith("data:")) {
          onData.accept(line.substring(5).trim());
        }
        lineStart = i + 1;
      }
    }
    pending = lineStart == 0 ? pending : pending.getBuffer(lineStart, pending.length());
  }
}
