package io.switchboard.gateway.dialect.messages;

import io.switchboard.gateway.exchange.ChoiceExtras;
import io.switchboard.protocol.Usage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The Messages answer from worker chunks, tool calls included (the mocker makes none): streamed and whole. */
class MessagesStreamTest {

  private final List<String> names = new ArrayList<>();
  private final List<JsonObject> events = new ArrayList<>();
  private final MessagesStream stream = new MessagesStream("msg_r1", "m", (name, data) -> {
    names.add(name);
    events.add(data);
  });

  /** An OpenAI tool-call delta as a backend streams it. */
  private static JsonObject toolDelta(int index, String id, String name, String arguments) {
    JsonObject function = new JsonObject().put("arguments", arguments);
    if (name != null) {
      function.put("name", name);
    }
    JsonObject call = new JsonObject().put("index", index).put("function", function);
    if (id != null) {
      call.put("id", id).put("type", "function");
    }
    return new JsonObject().put("delta", new JsonObject().put("tool_calls", new JsonArray().add(call)));
  }

  @Test
  void textIsStreamedInAnthropicsEventOrder() {
    stream.start();
    stream.delta("Hel", null);
    stream.delta("lo", null);
    stream.finish("stop", new Usage(10, 2, 4));
    assertThat(names).containsExactly("message_start", "content_block_start", "ping", "content_block_delta",
        "content_block_delta", "content_block_stop", "message_delta", "message_stop");
    JsonObject start = events.get(0).getJsonObject("message");
    assertThat(start.getString("id")).isEqualTo("msg_r1");
    assertThat(start.getString("type")).isEqualTo("message");
    assertThat(start.getString("role")).isEqualTo("assistant");
    assertThat(start.getJsonArray("content")).isEmpty();
    assertThat(start.getJsonObject("usage").getInteger("output_tokens")).isZero();
    assertThat(events.get(1)).isEqualTo(new JsonObject().put("type", "content_block_start").put("index", 0)
        .put("content_block", new JsonObject().put("type", "text").put("text", "")));
    assertThat(events.get(3)).isEqualTo(new JsonObject().put("type", "content_block_delta").put("index", 0)
        .put("delta", new JsonObject().put("type", "text_delta").put("text", "Hel")));
    assertThat(events.get(5)).isEqualTo(new JsonObject().put("type", "content_block_stop").put("index", 0));
    assertThat(events.get(6)).isEqualTo(new JsonObject().put("type", "message_delta")
        .put("delta", new JsonObject().put("stop_reason", "end_turn").putNull("stop_sequence"))
        .put("usage", new JsonObject().put("input_tokens", 6).put("cache_creation_input_tokens", 0)
            .put("cache_read_input_tokens", 4).put("output_tokens", 2)));
    assertThat(events.get(7)).isEqualTo(new JsonObject().put("type", "message_stop"));
  }

  @Test
  void toolCallsBecomeToolUseBlocksAfterTheText() {
    stream.start();
    stream.delta("Checking.", null);
    stream.delta("", toolDelta(0, "call_a", "weather", ""));
    stream.delta("", toolDelta(0, null, null, "{\"city\":"));
    stream.delta("", toolDelta(0, null, null, "\"Oslo\"}"));
    stream.delta("", toolDelta(1, "call_b", "clock", "{}"));
    stream.finish("tool_calls", new Usage(5, 9));
    assertThat(names).containsExactly("message_start", "content_block_start", "ping", "content_block_delta",
        "content_block_stop",
        "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
        "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop");
    assertThat(events.get(5)).isEqualTo(new JsonObject().put("type", "content_block_start").put("index", 1)
        .put("content_block", new JsonObject().put("type", "tool_use").put("id", "call_a").put("name", "weather")
            .put("input", new JsonObject())));
    assertThat(events.get(6)).isEqualTo(new JsonObject().put("type", "content_block_delta").put("index", 1)
        .put("delta", new JsonObject().put("type", "input_json_delta").put("partial_json", "{\"city\":")));
    assertThat(events.get(9).getInteger("index")).isEqualTo(2);
    assertThat(events.get(9).getJsonObject("content_block").getString("name")).isEqualTo("clock");
    assertThat(events.get(12).getJsonObject("delta").getString("stop_reason")).isEqualTo("tool_use");
  }

  @Test
  void aToolCallWithNoTextLeavesTheTextBlockEmptyAndTextAfterItOpensANewBlock() {
    stream.start();
    stream.delta("", toolDelta(0, null, "f", "{}"));
    stream.delta("after", null);
    stream.finish("stop", new Usage(1, 1));
    assertThat(names).containsExactly("message_start", "content_block_start", "ping", "content_block_stop",
        "content_block_start", "content_block_delta", "content_block_stop",
        "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop");
    assertThat(events.get(4).getJsonObject("content_block").getString("id")).as("an id made up when none came")
        .isEqualTo("toolu_r1_0");
    assertThat(events.get(7).getInteger("index")).isEqualTo(2);
    assertThat(events.get(10).getJsonObject("delta").getString("stop_reason")).isEqualTo("tool_use");
  }

  @Test
  void aWholeMessageHasTextAndToolUseBlocksWithParsedInput() {
    ChoiceExtras extras = new ChoiceExtras();
    extras.add(toolDelta(0, "call_a", "weather", "{\"city\":"));
    extras.add(toolDelta(0, null, null, "\"Oslo\"}"));
    extras.add(toolDelta(1, "call_b", "broken", "{not json"));
    extras.add(toolDelta(2, "call_c", "noargs", ""));
    JsonObject message = MessagesFormat.completeMessage("msg_r1", "m", "Checking.", extras, "tool_calls",
        new Usage(12, 30, 2));
    assertThat(message).isEqualTo(new JsonObject().put("id", "msg_r1").put("type", "message")
        .put("role", "assistant").put("model", "m")
        .put("content", new JsonArray()
            .add(new JsonObject().put("type", "text").put("text", "Checking."))
            .add(new JsonObject().put("type", "tool_use").put("id", "call_a").put("name", "weather")
                .put("input", new JsonObject().put("city", "Oslo")))
            .add(new JsonObject().put("type", "tool_use").put("id", "call_b").put("name", "broken")
                .put("input", new JsonObject().put("_raw", "{not json")))
            .add(new JsonObject().put("type", "tool_use").put("id", "call_c").put("name", "noargs")
                .put("input", new JsonObject())))
        .put("stop_reason", "tool_use").putNull("stop_sequence")
        .put("usage", new JsonObject().put("input_tokens", 10).put("cache_creation_input_tokens", 0)
            .put("cache_read_input_tokens", 2).put("output_tokens", 30)));
    JsonObject onlyTools = MessagesFormat.completeMessage("msg_r1", "m", "", extras, "stop", new Usage(1, 1));
    assertThat(onlyTools.getJsonArray("content").getJsonObject(0).getString("type")).isEqualTo("tool_use");
    assertThat(onlyTools.getString("stop_reason")).isEqualTo("tool_use");
  }

  @Test
  void finishReasonsMapToStopReasons() {
    assertThat(MessagesFormat.stopReason("stop", false)).isEqualTo("end_turn");
    assertThat(MessagesFormat.stopReason("length", false)).isEqualTo("max_tokens");
    assertThat(MessagesFormat.stopReason("length", true)).isEqualTo("max_tokens");
    assertThat(MessagesFormat.stopReason("tool_calls", false)).isEqualTo("tool_use");
    assertThat(MessagesFormat.stopReason("content_filter", false)).isEqualTo("refusal");
    assertThat(MessagesFormat.stopReason(null, false)).isEqualTo("end_turn");
    JsonObject empty = MessagesFormat.completeMessage("msg_x", "m", "", new ChoiceExtras(), "length",
        new Usage(3, 0));
    assertThat(empty.getJsonArray("content")).containsExactly(new JsonObject().put("type", "text").put("text", ""));
    assertThat(MessagesFormat.toolInput("[1,2]")).isEqualTo(new JsonObject().put("_raw", "[1,2]"));
  }
}
