package io.switchboard.worker.openai;

import io.switchboard.bench.jmh.SameOutput;
import io.switchboard.bench.jmh.SampleChat;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.switchboard.bench.jmh.FastPathBenchmark;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

import java.nio.charset.StandardCharsets;

/**
 * Reading one event of a backend's chat stream, as an openai worker does for every event: the fast paths against the
 * library way they replaced, a Jackson parse into a JSON tree ({@code new JsonObject(String)}, what the worker still
 * does for an event that is not plain) and the same fields taken from it. {@code scanner} is {@link PlainChunk}'s
 * scan of every byte; {@code fast} is what the worker runs, {@link PlainEventReader}, warmed by an earlier event of
 * the same stream, so a token event is read by comparison with it and the usage event in full. All three read the
 * same values (checked in the set-up; PlainChunkTest and PlainEventReaderTest are the differential tests). Events,
 * as vLLM writes them: a chunk of one token, a chunk of twenty tokens, the usage chunk at the end of a stream.
 *
 * <p>In this package to reach {@link PlainChunk} and {@link PlainEventReader}, which are package-private. Run:
 * {@code load-tests/bin/chunk-read-bench}.
 */
public class PlainChunkReadBenchmark extends FastPathBenchmark {

  @Param({"chunk-one-token", "chunk-20-tokens", "usage-chunk"})
  public String event;

  private byte[] bytes;
  private PlainEventReader reader;

  /** One event of a vLLM chat stream with {@code stream_options.include_usage}. */
  static byte[] backendEvent(JsonArray choices, JsonObject usage) {
    JsonObject event = new JsonObject().put("id", "chatcmpl-1f0c7a3e9b2d4c8e").put("object", "chat.completion.chunk")
        .put("created", 1796532500L).put("model", SampleChat.MODEL).put("choices", choices);
    if (usage != null) {
      event.put("usage", usage);
    }
    return event.toBuffer().getBytes();
  }

  static byte[] tokenEvent(String text) {
    return backendEvent(new JsonArray().add(new JsonObject().put("index", 0)
        .put("delta", new JsonObject().put("content", text)).putNull("logprobs").putNull("finish_reason")), null);
  }

  static byte[] usageEvent() {
    return backendEvent(new JsonArray(), new JsonObject().put("prompt_tokens", 41).put("total_tokens", 61)
        .put("completion_tokens", 20).put("prompt_tokens_details", new JsonObject().put("cached_tokens", 32)));
  }

  @Setup
  public void setUp() {
    bytes = switch (event) {
      case "chunk-one-token" -> tokenEvent(SampleChat.ONE_TOKEN);
      case "chunk-20-tokens" -> tokenEvent(SampleChat.TWENTY_TOKENS);
      case "usage-chunk" -> usageEvent();
      default -> throw new IllegalArgumentException("unknown event " + event);
    };
    // The stream's earlier token event, read in full: the one later events are compared with.
    byte[] earlier = tokenEvent(" Lyon");
    reader = new PlainEventReader(true);
    reader.read(earlier, 0, earlier.length);
    SameOutput.require(event + " (scanner)", jackson(), scanner());
    SameOutput.require(event, jackson(), fast());
    if (!event.equals("usage-chunk") && reader.fullReads() != 1) {
      throw new IllegalStateException(event + ": a token event should be read by comparison, not in full");
    }
  }

  /** What OpenAiStreamApi's full path takes from the tree, as the reading PlainChunk gives. */
  @Benchmark
  public PlainChunk jackson() {
    JsonObject json = new JsonObject(new String(bytes, StandardCharsets.UTF_8));
    JsonObject usage = json.getJsonObject("usage");
    int promptTokens = -1;
    int completionTokens = 0;
    int cachedTokens = 0;
    if (usage != null) {
      JsonObject details = usage.getJsonObject("prompt_tokens_details");
      promptTokens = usage.getInteger("prompt_tokens", 0);
      completionTokens = usage.getInteger("completion_tokens", 0);
      cachedTokens = details == null ? 0 : details.getInteger("cached_tokens", 0);
    }
    JsonArray choices = json.getJsonArray("choices");
    if (choices == null || choices.isEmpty()) {
      return new PlainChunk(false, null, null, promptTokens, completionTokens, cachedTokens);
    }
    JsonObject choice = choices.getJsonObject(0);
    return new PlainChunk(true, choice.getJsonObject("delta", new JsonObject()).getString("content"),
        choice.getString("finish_reason"), promptTokens, completionTokens, cachedTokens);
  }

  @Benchmark
  public PlainChunk scanner() {
    return PlainChunk.read(bytes, 0, bytes.length, true);
  }

  @Benchmark
  public PlainChunk fast() {
    return reader.read(bytes, 0, bytes.length);
  }
}
