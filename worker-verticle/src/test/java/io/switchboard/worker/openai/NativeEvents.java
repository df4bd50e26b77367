package io.switchboard.worker.openai;

import io.switchboard.protocol.GenerateError;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Feeds a captured event stream (test resources, native/) through SseEventReader into a reader, and records. */
final class NativeEvents implements NativeStream {

  final StringBuilder text = new StringBuilder();
  final List<JsonObject> deltas = new ArrayList<>();
  final List<String> finishes = new ArrayList<>();
  int promptTokens = -1;
  int completionTokens = -1;
  int cachedTokens = -1;
  GenerateError.Code errorCode;
  String errorMessage;
  int events;

  static NativeEvents read(String resource, NativeStream.Reader reader) throws Exception {
    byte[] bytes;
    try (InputStream in = NativeEvents.class.getResourceAsStream("/native/" + resource)) {
      bytes = in.readAllBytes();
    }
    return feed(bytes, reader);
  }

  static NativeEvents feed(byte[] bytes, NativeStream.Reader reader) {
    NativeEvents out = new NativeEvents();
    SseEventReader sse = new SseEventReader((data, offset, length) -> {
      out.events++;
      reader.read(new JsonObject(new String(data, offset, length, StandardCharsets.UTF_8)), out);
    }, why -> {
      throw new AssertionError(why);
    }, () -> { });
    // In small pieces, as a network delivers it.
    for (int i = 0; i < bytes.length; i += 97) {
      sse.write(Buffer.buffer().appendBytes(bytes, i, Math.min(97, bytes.length - i)));
    }
    sse.end();
    return out;
  }

  @Override
  public void text(String text) {
    this.text.append(text);
  }

  @Override
  public void delta(JsonObject delta) {
    deltas.add(delta);
  }

  @Override
  public void usage(int promptTokens, int completionTokens, int cachedTokens) {
    this.promptTokens = promptTokens;
    this.completionTokens = completionTokens;
    this.cachedTokens = cachedTokens;
  }

  @Override
  public void finish(String reason) {
    finishes.add(reason);
  }

  @Override
  public void failed(GenerateError.Code code, String message) {
    errorCode = code;
    errorMessage = message;
  }
}
