package io.switchboard.bench.jmh;

import io.switchboard.runtime.json.JsonText;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;


/**
 * Writing an answer's JSON for the client, as the gateway does for every Responses and Messages answer and every
 * streamed event built as a tree: Vert.x's codec ({@code toBuffer()}, Jackson) against {@link JsonText#toBuffer},
 * which writes the same bytes (checked in the set-up; JsonTextTest is the differential test). Trees: a whole
 * Responses {@code response} object (the request's fields echoed, one message item), a Messages text delta event with
 * non-ASCII text, an OpenAI chat chunk of one token and of twenty, the usage chunk that ends a stream.
 *
 * <p>Run: {@code load-tests/bin/json-bench}.
 */
public class AnswerJsonBenchmark extends FastPathBenchmark {

  @Param({"chat-chunk", "chat-chunk-20-tokens", "usage-chunk", "messages-delta", "responses-object"})
  public String tree;

  private JsonObject json;

  @Setup
  public void setUp() {
    json = switch (tree) {
      case "responses-object" -> new JsonObject().put("id", "resp_69477e7a6f8244b827f26bfbbb16dd5c")
          .put("object", "response").put("created_at", 1796532500L).put("status", "completed")
          .put("background", false).putNull("error").putNull("incomplete_details").putNull("instructions")
          .put("max_output_tokens", 16).put("model", "fast-llm")
          .put("output", new JsonArray().add(new JsonObject().put("id", "msg_69477e7a6f8244b827f26bfbbb16dd5c")
              .put("type", "message").put("status", "completed").put("content", new JsonArray().add(new JsonObject()
                  .put("type", "output_text").put("text", " t0 t1 t2 t3 t4 t5 t6 t7 t8 t9 t10 t11 t12 t13 t14 t15")
                  .put("annotations", new JsonArray()).put("logprobs", new JsonArray())))
              .put("role", "assistant")))
          .put("parallel_tool_calls", true).putNull("previous_response_id")
          .put("reasoning", new JsonObject().putNull("effort").putNull("summary")).put("store", false)
          .put("temperature", 1.0).put("text", new JsonObject().put("format", new JsonObject().put("type", "text")))
          .put("tool_choice", "auto").put("tools", new JsonArray()).put("top_p", 1.0).put("truncation", "disabled")
          .put("usage", new JsonObject().put("input_tokens", 5).put("input_tokens_details",
              new JsonObject().put("cached_tokens", 0)).put("output_tokens", 16)
              .put("output_tokens_details", new JsonObject().put("reasoning_tokens", 0)).put("total_tokens", 21))
          .putNull("user").put("metadata", new JsonObject());
      case "messages-delta" -> new JsonObject().put("type", "content_block_delta").put("index", 0)
          .put("delta", new JsonObject().put("type", "text_delta").put("text", " t0 t1 t2 t3 — ünïcode 🦊"));
      case "chat-chunk" -> chatChunk(SampleChat.ONE_TOKEN);
      case "chat-chunk-20-tokens" -> chatChunk(SampleChat.TWENTY_TOKENS);
      case "usage-chunk" -> chunkEnvelope().put("choices", new JsonArray()).put("usage", new JsonObject()
          .put("prompt_tokens", 41).put("completion_tokens", 20).put("total_tokens", 61)
          .put("prompt_tokens_details", new JsonObject().put("cached_tokens", 32)));
      default -> throw new IllegalArgumentException("unknown tree " + tree);
    };
    SameOutput.require(tree, jackson(), fast());
  }

  private static JsonObject chunkEnvelope() {
    return new JsonObject().put("id", "chatcmpl-69477e7a6f8244b8").put("object", "chat.completion.chunk")
        .put("created", 1796532500L).put("model", SampleChat.MODEL).putNull("system_fingerprint");
  }

  private static JsonObject chatChunk(String text) {
    return chunkEnvelope().put("choices", new JsonArray().add(new JsonObject().put("index", 0)
        .put("delta", new JsonObject().put("content", text)).putNull("logprobs").putNull("finish_reason")));
  }

  @Benchmark
  public Buffer jackson() {
    return json.toBuffer();
  }

  @Benchmark
  public Buffer fast() {
    return JsonText.toBuffer(json);
  }
}
