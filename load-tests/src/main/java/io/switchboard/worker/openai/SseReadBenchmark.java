package io.switchboard.worker.openai;

import io.switchboard.bench.jmh.SameOutput;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.codec.BodyCodec;
import io.vertx.ext.web.codec.spi.BodyStream;
import io.switchboard.bench.jmh.FastPathBenchmark;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Cutting a backend's event stream into events, as an openai worker does for every response it relays: its fast
 * path, {@link SseEventReader} (each event's data handed over as bytes, where it was read), against the library way
 * it replaced, vertx-web's SSE body codec ({@code BodyCodec.sseStream}, each event an {@code SseEvent} with its data
 * as a String). Both read the same events (checked in the set-up; SseEventReaderTest holds the reader to the SSE
 * spec's rules). One stream per operation: a 64-token answer as vLLM writes it, a role chunk, a chunk per token, the
 * finish chunk, usage and {@code [DONE]} (68 events), arriving one event per write (a backend flushing every token)
 * or in 8 KB writes (a fast backend's events arriving together, cut anywhere).
 *
 * <p>In this package to reach {@link SseEventReader}, which is package-private. Run:
 * {@code load-tests/bin/sse-read-bench}.
 */
public class SseReadBenchmark extends FastPathBenchmark {

  @Param({"event-per-write", "8k-writes"})
  public String writes;

  private static final int TOKENS = 64;

  private Buffer[] input;

  @Setup
  public void setUp() throws Exception {
    List<Buffer> events = new ArrayList<>();
    events.add(frame(PlainChunkReadBenchmark.backendEvent(new JsonArray().add(new JsonObject().put("index", 0)
        .put("delta", new JsonObject().put("role", "assistant").put("content", "")).putNull("logprobs")
        .putNull("finish_reason")), null)));
    for (int i = 0; i < TOKENS; i++) {
      events.add(frame(PlainChunkReadBenchmark.tokenEvent(" token" + i)));
    }
    events.add(frame(PlainChunkReadBenchmark.backendEvent(new JsonArray().add(new JsonObject().put("index", 0)
        .put("delta", new JsonObject()).putNull("logprobs").put("finish_reason", "length")), null)));
    events.add(frame(PlainChunkReadBenchmark.usageEvent()));
    events.add(Buffer.buffer("data: [DONE]\n\n"));
    input = switch (writes) {
      case "event-per-write" -> events.toArray(new Buffer[0]);
      case "8k-writes" -> inPiecesOf(8192, events);
      default -> throw new IllegalArgumentException("unknown writes " + writes);
    };
    SameOutput.require(writes, vertxSseData(), fastData());
  }

  private static Buffer frame(byte[] json) {
    return Buffer.buffer().appendString("data: ").appendBytes(json).appendString("\n\n");
  }

  private static Buffer[] inPiecesOf(int size, List<Buffer> events) {
    Buffer whole = Buffer.buffer();
    events.forEach(whole::appendBuffer);
    List<Buffer> pieces = new ArrayList<>();
    for (int from = 0; from < whole.length(); from += size) {
      pieces.add(whole.getBuffer(from, Math.min(whole.length(), from + size)));
    }
    return pieces.toArray(new Buffer[0]);
  }

  private List<String> vertxSseData() throws Exception {
    List<String> data = new ArrayList<>();
    BodyStream<Void> stream = BodyCodec.sseStream(events -> events.handler(event -> data.add(event.data()))).stream();
    for (Buffer buffer : input) {
      stream.write(buffer);
    }
    stream.end();
    return data;
  }

  private List<String> fastData() {
    List<String> data = new ArrayList<>();
    SseEventReader reader = new SseEventReader(
        (bytes, offset, length) -> data.add(new String(bytes, offset, length, StandardCharsets.UTF_8)),
        why -> data.add("failed: " + why), () -> { });
    for (Buffer buffer : input) {
      reader.write(buffer);
    }
    reader.end();
    return data;
  }

  /** The stream's events through the codec; returns the characters of data read, so nothing is left unused. */
  @Benchmark
  public long vertxSse() throws Exception {
    long[] chars = new long[1];
    BodyStream<Void> stream = BodyCodec.sseStream(events -> events.handler(event -> chars[0] += event.data().length()))
        .stream();
    for (Buffer buffer : input) {
      stream.write(buffer);
    }
    stream.end();
    return chars[0];
  }

  /** The stream's events through the worker's reader; returns the bytes of data read. */
  @Benchmark
  public long fast() {
    long[] bytes = new long[1];
    SseEventReader reader = new SseEventReader((data, offset, length) -> bytes[0] += length,
        why -> {
          throw new IllegalStateException(why);
        }, () -> { });
    for (Buffer buffer : input) {
      reader.write(buffer);
    }
    reader.end();
    return bytes[0];
  }
}
