package io.switchboard.bench.jmh;

import io.switchboard.runtime.json.JsonText;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Writing an answer's JSON for the client, as the gateway does for every Responses and Messages answer and every
 * streamed event: Vert.x's codec ({@code toBuffer()}, Jackson) against {@link JsonText#toBuffer}, which writes the
 * same bytes. Trees: a whole Responses {@code response} object (the request's fields echoed, one message item), a
 * Messages text delta event, an OpenAI chat chunk.
 *
 * <p>Run: {@code java -cp load-tests/target/switchboard-bench.jar org.openjdk.jmh.Main AnswerJsonBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class AnswerJsonBenchmark {

  @Param({"responses-object", "messages-delta", "chat-chunk"})
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
      case "chat-chunk" -> new JsonObject().put("id", "chatcmpl-69477e7a6f8244b8").put("object", "chat.completion.chunk")
          .put("created", 1796532500L).put("model", "fast-llm").putNull("system_fingerprint")
          .put("choices", new JsonArray().add(new JsonObject().put("index", 0)
              .put("delta", new JsonObject().put("content", " t0")).putNull("logprobs").putNull("finish_reason")));
      default -> throw new IllegalArgumentException(tree);
    };
  }

  @Benchmark
  public Buffer jackson() {
    return json.toBuffer();
  }

  @Benchmark
  public Buffer jsonText() {
    return JsonText.toBuffer(json);
  }
}
