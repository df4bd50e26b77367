package io.switchboard.worker.openai;

import io.switchboard.protocol.GenerateError;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ResponsesEventReader} on event streams captured from the real llama-server (test resources native/, see
 * its README), and on the function-call and reasoning events llama-server renders (tools/server/server-task.cpp),
 * which the tiny test model cannot be made to produce.
 */
class ResponsesEventReaderTest {

  @Test
  void textUsageAndACutAnswerFromLlamaServer() throws Exception {
    NativeEvents out = NativeEvents.read("llama-server-responses-text.sse", new ResponsesEventReader(5));

    assertThat(out.text.toString()).isEqualTo(doneText("llama-server-responses-text.sse")).isNotEmpty();
    assertThat(out.deltas).isEmpty();
    assertThat(out.promptTokens).isEqualTo(29);
    assertThat(out.completionTokens).isEqualTo(5);
    assertThat(out.cachedTokens).isZero();
    // llama-server says "completed" for an answer its max_output_tokens cut: the output reached the limit sent.
    assertThat(out.finishes).containsExactly("length");
    assertThat(out.errorCode).isNull();
  }

  @Test
  void anAnswerBelowTheLimitSentEndsByStop() throws Exception {
    NativeEvents out = NativeEvents.read("llama-server-responses-20.sse", new ResponsesEventReader(0));

    assertThat(out.text.toString()).isEqualTo(doneText("llama-server-responses-20.sse"));
    assertThat(out.completionTokens).isEqualTo(20);
    assertThat(out.finishes).containsExactly("stop");
    assertThat(NativeEvents.read("llama-server-responses-20.sse", new ResponsesEventReader(20)).finishes)
        .containsExactly("length");
  }

  @Test
  void functionCallsBecomeChatToolCallDeltas() {
    // The events llama-server's server-task.cpp writes for a tool call (item id fc_X, call_id call_X).
    String stream = """
        event: response.output_item.added
        data: {"type":"response.output_item.added","item":{"id":"fc_a1","arguments":"","call_id":"call_a1","name":"get_weather","type":"function_call","status":"in_progress"}}

        event: response.function_call_arguments.delta
        data: {"type":"response.function_call_arguments.delta","delta":"{\\"city\\":","item_id":"fc_a1"}

        event: response.function_call_arguments.delta
        data: {"type":"response.function_call_arguments.delta","delta":"\\"Paris\\"}","item_id":"fc_a1"}

        event: response.output_item.added
        data: {"type":"response.output_item.added","item":{"id":"fc_b2","arguments":"","call_id":"call_b2","name":"get_time","type":"function_call","status":"in_progress"}}

        event: response.function_call_arguments.delta
        data: {"type":"response.function_call_arguments.delta","delta":"{}","item_id":"fc_b2"}

        event: response.completed
        data: {"type":"response.completed","response":{"status":"completed","output":[],"usage":{"input_tokens":40,"output_tokens":12,"total_tokens":52,"input_tokens_details":{"cached_tokens":8}}}}

        """;

    NativeEvents out = NativeEvents.feed(stream.getBytes(StandardCharsets.UTF_8), new ResponsesEventReader(0));

    assertThat(out.text.toString()).isEmpty();
    assertThat(out.deltas).containsExactly(
        new JsonObject("{\"tool_calls\":[{\"index\":0,\"id\":\"call_a1\",\"type\":\"function\","
            + "\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}"),
        new JsonObject("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\"}}]}"),
        new JsonObject("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"Paris\\\"}\"}}]}"),
        new JsonObject("{\"tool_calls\":[{\"index\":1,\"id\":\"call_b2\",\"type\":\"function\","
            + "\"function\":{\"name\":\"get_time\",\"arguments\":\"\"}}]}"),
        new JsonObject("{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":\"{}\"}}]}"));
    assertThat(out.finishes).containsExactly("tool_calls");
    assertThat(out.promptTokens).isEqualTo(40);
    assertThat(out.cachedTokens).isEqualTo(8);
  }

  @Test
  void reasoningIsReasoningContentAndIncompleteIsLength() {
    String stream = """
        data: {"type":"response.output_item.added","item":{"id":"rs_1","summary":[],"type":"reasoning","content":[],"encrypted_content":"","status":"in_progress"}}

        data: {"type":"response.reasoning_text.delta","delta":"think","item_id":"rs_1"}

        data: {"type":"response.output_text.delta","item_id":"msg_1","delta":"answer"}

        data: {"type":"response.incomplete","response":{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"usage":{"input_tokens":3,"output_tokens":2}}}

        """;

    NativeEvents out = NativeEvents.feed(stream.getBytes(StandardCharsets.UTF_8), new ResponsesEventReader(0));

    assertThat(out.deltas).containsExactly(new JsonObject().put("reasoning_content", "think"));
    assertThat(out.text.toString()).isEqualTo("answer");
    assertThat(out.finishes).containsExactly("length");
  }

  @Test
  void failuresAreTyped() {
    NativeEvents failed = NativeEvents.feed("""
        data: {"type":"response.failed","response":{"status":"failed","error":{"code":"server_error","message":"boom"}}}

        """.getBytes(StandardCharsets.UTF_8), new ResponsesEventReader(0));
    assertThat(failed.errorCode).isEqualTo(GenerateError.Code.ENGINE_FAILED);
    assertThat(failed.errorMessage).contains("boom");

    NativeEvents invalid = NativeEvents.feed("""
        data: {"type":"error","code":"invalid_request_error","message":"bad input","param":"input"}

        """.getBytes(StandardCharsets.UTF_8), new ResponsesEventReader(0));
    assertThat(invalid.errorCode).isEqualTo(GenerateError.Code.INVALID_REQUEST);
    assertThat(invalid.errorMessage).contains("bad input");
  }

  /** The whole text llama-server reports in its response.output_text.done event. */
  private static String doneText(String resource) throws Exception {
    String stream;
    try (InputStream in = ResponsesEventReaderTest.class.getResourceAsStream("/native/" + resource)) {
      stream = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    Matcher done = Pattern.compile("data: (\\{\"type\":\"response.output_text.done\".*)").matcher(stream);
    assertThat(done.find()).isTrue();
    return new JsonObject(done.group(1)).getString("text");
  }
}
