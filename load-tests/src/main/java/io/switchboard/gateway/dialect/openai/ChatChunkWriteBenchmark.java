package io.switchboard.gateway.dialect.openai;

import io.switchboard.bench.jmh.SameOutput;
import io.switchboard.bench.jmh.SampleChat;
import io.switchboard.gateway.api.CompletionRequest;
import io.switchboard.gateway.exchange.ChoiceExtras;
import io.switchboard.runtime.json.JsonText;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.SamplingParams;
import io.switchboard.protocol.Usage;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.switchboard.bench.jmh.FastPathBenchmark;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;


/**
 * Writing a chat answer for the client, as the gateway does for every streamed chunk and every whole answer: its
 * fast paths in {@link OpenAiFormat} ({@code appendTextChunk} into the SSE frame, as {@code SseWriter.startData} and
 * {@code endEvent} frame it; {@code completeResponseBody}) against what they replaced, the answer built as a JSON tree
 * and encoded, by Vert.x's codec ({@code jackson}) or by {@link JsonText} ({@code tree}, the step between). All three
 * give the same bytes (checked in the set-up; OpenAiFormatTest is the differential test). Answers: a chunk of one
 * token, a chunk of twenty tokens (framed as {@code data: ...\n\n}), and a whole non-streamed answer of twenty tokens.
 *
 * <p>In this package to reach {@link OpenAiFormat}, which is package-private. Run: {@code load-tests/bin/chunk-write-bench}.
 */
public class ChatChunkWriteBenchmark extends FastPathBenchmark {

  @Param({"chunk-one-token", "chunk-20-tokens", "whole-answer"})
  public String answer;

  private static final Usage USAGE = new Usage(41, 20, 32);

  private OpenAiFormat format;
  private String text;
  private boolean whole;

  @Setup
  public void setUp() {
    whole = answer.equals("whole-answer");
    text = switch (answer) {
      case "chunk-one-token" -> SampleChat.ONE_TOKEN;
      case "chunk-20-tokens", "whole-answer" -> SampleChat.TWENTY_TOKENS;
      default -> throw new IllegalArgumentException("unknown answer " + answer);
    };
    CompletionRequest request = new CompletionRequest(RequestKind.CHAT, SampleChat.MODEL, SampleChat.requestBody(),
        "", new SamplingParams(256, 0.7, 1.0, null, null), !whole, false);
    format = new OpenAiFormat(request, "69477e7a6f8244b827f26bfbbb16dd5c");
    SameOutput.require(answer + " (tree)", jackson(), tree());
    SameOutput.require(answer, jackson(), fast());
  }

  @Benchmark
  public Buffer jackson() {
    if (whole) {
      return format.completeResponse(text, "stop", USAGE).toBuffer();
    }
    return Buffer.buffer(256).appendString("data: ").appendBuffer(format.textChunk(text).toBuffer())
        .appendString("\n\n");
  }

  @Benchmark
  public Buffer tree() {
    if (whole) {
      return JsonText.toBuffer(format.completeResponse(text, "stop", USAGE));
    }
    // As SseWriter.event(JsonObject) frames a tree.
    StringBuilder frame = new StringBuilder(192).append("data: ");
    JsonText.appendAsToBuffer(frame, format.textChunk(text));
    return Buffer.buffer(frame.append("\n\n").toString());
  }

  @Benchmark
  public Buffer fast() {
    if (whole) {
      return format.completeResponseBody(text, "stop", USAGE, new ChoiceExtras());
    }
    // As ChatAnswerWriter writes a plain chunk: SseWriter.startData, appendTextChunk, endEvent.
    StringBuilder frame = new StringBuilder(256).append("data: ");
    format.appendTextChunk(frame, text);
    return Buffer.buffer(frame.append("\n\n").toString());
  }
}
