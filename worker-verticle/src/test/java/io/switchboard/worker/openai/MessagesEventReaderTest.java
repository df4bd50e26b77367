package io.switchboard.worker.openai;

import io.switchboard.protocol.GenerateError;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link MessagesEventReader} on event streams captured from the real llama-server (test resources native/, see
 * its README), and on the tool-use and thinking events llama-server renders (tools/server/server-task.cpp), which
 * the tiny test model cannot be made to produce.
 */
class MessagesEventReaderTest {

  @Test
  void textUsageAndACutAnswerFromLlamaServer() throws Exception {
    NativeEvents out = NativeEvents.read("llama-server-messages-text.sse", new MessagesEventReader());

    assertThat(out.text.toString()).isNotEmpty();
    assertThat(out.events).isEqualTo(10); // message_start, block start, 5 deltas, block stop, message_delta, stop
    assertThat(out.deltas).isEmpty();
    // message_start said input_tokens 1 and cache_read_input_tokens 28 (the rest of the prompt was cached).
    assertThat(out.promptTokens).isEqualTo(29);
    assertThat(out.cachedTokens).isEqualTo(28);
    assertThat(out.completionTokens).isEqualTo(5);
    assertThat(out.finishes).containsExactly("length"); // stop_reason max_tokens
    assertThat(out.errorCode).isNull();
  }

  @Test
  void aStopSequenceEndsByStop() throws Exception {
    NativeEvents out = NativeEvents.read("llama-server-messages-stop-sequence.sse", new MessagesEventReader());

    // llama-server says stop_reason end_turn with stop_sequence " Und"; either is stop.
    assertThat(out.finishes).containsExactly("stop");
    assertThat(out.completionTokens).isEqualTo(2);
    assertThat(out.text.toString()).doesNotContain(" Und");
  }

  @Test
  void toolUseAndThinkingBecomeChatDeltas() {
    String stream = """
        event: message_start
        data: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant","content":[],"usage":{"input_tokens":7,"cache_read_input_tokens":3,"output_tokens":0}}}

        event: content_block_start
        data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":""}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":0}

        event: content_block_start
        data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"city\\":\\"Paris\\"}"}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":1}

        event: message_delta
        data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":9}}

        event: message_stop
        data: {"type":"message_stop"}

        """;

    NativeEvents out = NativeEvents.feed(stream.getBytes(StandardCharsets.UTF_8), new MessagesEventReader());

    assertThat(out.deltas).containsExactly(
        new JsonObject().put("reasoning_content", "hmm"),
        new JsonObject("{\"tool_calls\":[{\"index\":0,\"id\":\"toolu_1\",\"type\":\"function\","
            + "\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}"),
        new JsonObject("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]}"));
    assertThat(out.finishes).containsExactly("tool_calls");
    assertThat(out.promptTokens).isEqualTo(10);
    assertThat(out.cachedTokens).isEqualTo(3);
    assertThat(out.completionTokens).isEqualTo(9);
  }

  @Test
  void anErrorEventIsTyped() {
    NativeEvents overloaded = NativeEvents.feed("""
        event: error
        data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}

        """.getBytes(StandardCharsets.UTF_8), new MessagesEventReader());
    assertThat(overloaded.errorCode).isEqualTo(GenerateError.Code.ENGINE_FAILED);
    assertThat(overloaded.errorMessage).contains("overloaded_error").contains("Overloaded");

    NativeEvents invalid = NativeEvents.feed("""
        data: {"type":"error","error":{"type":"invalid_request_error","message":"bad"}}

        """.getBytes(StandardCharsets.UTF_8), new MessagesEventReader());
    assertThat(invalid.errorCode).isEqualTo(GenerateError.Code.INVALID_REQUEST);
  }
}
