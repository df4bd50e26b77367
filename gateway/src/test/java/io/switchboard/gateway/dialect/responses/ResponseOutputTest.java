package io.switchboard.gateway.dialect.responses;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a worker streams (text, and chat deltas with reasoning_content and tool_calls) as Responses output items and
 * stream events, one item after another as OpenAI sends them. The mocker sends no tool calls: they are fed here as
 * the chunks' extras a backend would send.
 */
class ResponseOutputTest {

  private final List<String> types = new ArrayList<>();
  private final List<JsonObject> events = new ArrayList<>();
  private final ResponseOutput output = new ResponseOutput("resp_abc", new ResponseOutput.Events() {
    private String type;
    private StringBuilder fields;

    @Override
    public StringBuilder start(String type) {
      this.type = type;
      return fields = new StringBuilder("{\"type\":\"").append(type).append('"');
    }

    @Override
    public void end() {
      types.add(type);
      events.add(new JsonObject(fields.append('}').toString()));
    }
  });

  private static JsonObject toolCallDelta(int index, String id, String name, String arguments) {
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
  void textThenTwoToolCallsAreThreeItemsInOrder() {
    output.add("Let me ", null);
    output.add("check.", null);
    output.add("", toolCallDelta(0, "call_a", "weather", ""));
    output.add("", toolCallDelta(0, null, null, "{\"city\":"));
    output.add("", toolCallDelta(0, null, null, "\"Oslo\"}"));
    output.add("", toolCallDelta(1, "call_b", "time", "{}"));
    output.finish("completed");

    assertThat(types).containsExactly(
        "response.output_item.added", "response.content_part.added",
        "response.output_text.delta", "response.output_text.delta",
        "response.output_text.done", "response.content_part.done", "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta", "response.function_call_arguments.delta",
        "response.function_call_arguments.done", "response.output_item.done",
        "response.output_item.added", "response.function_call_arguments.delta",
        "response.function_call_arguments.done", "response.output_item.done");
    assertThat(events.get(0).getInteger("output_index")).isZero();
    assertThat(events.get(0).getJsonObject("item").getString("type")).isEqualTo("message");
    assertThat(events.get(0).getJsonObject("item").getString("status")).isEqualTo("in_progress");
    assertThat(events.get(2).getString("item_id")).isEqualTo("msg_abc");
    assertThat(events.get(2).getString("delta")).isEqualTo("Let me ");
    assertThat(events.get(4).getString("text")).isEqualTo("Let me check.");
    JsonObject callAdded = events.get(7);
    assertThat(callAdded.getInteger("output_index")).isEqualTo(1);
    assertThat(callAdded.getJsonObject("item").getString("type")).isEqualTo("function_call");
    assertThat(callAdded.getJsonObject("item").getString("call_id")).isEqualTo("call_a");
    assertThat(callAdded.getJsonObject("item").getString("name")).isEqualTo("weather");
    assertThat(callAdded.getJsonObject("item").getString("arguments")).isEmpty();
    JsonObject argumentsDone = events.get(10);
    assertThat(argumentsDone.getString("arguments")).isEqualTo("{\"city\":\"Oslo\"}");
    assertThat(argumentsDone.getString("name")).isEqualTo("weather");
    assertThat(argumentsDone.getString("item_id")).isEqualTo(callAdded.getJsonObject("item").getString("id"));
    assertThat(events.get(12).getInteger("output_index")).isEqualTo(2);

    JsonArray items = output.items();
    assertThat(items).hasSize(3);
    JsonObject message = items.getJsonObject(0);
    assertThat(message.getString("status")).isEqualTo("completed");
    assertThat(message.getString("role")).isEqualTo("assistant");
    assertThat(message.getJsonArray("content").getJsonObject(0)).isEqualTo(new JsonObject()
        .put("type", "output_text").put("text", "Let me check.").put("annotations", new JsonArray())
        .put("logprobs", new JsonArray()));
    JsonObject first = items.getJsonObject(1);
    assertThat(first.getString("id")).startsWith("fc_");
    assertThat(first.getString("call_id")).isEqualTo("call_a");
    assertThat(first.getString("arguments")).isEqualTo("{\"city\":\"Oslo\"}");
    assertThat(first.getString("status")).isEqualTo("completed");
    assertThat(items.getJsonObject(2).getString("name")).isEqualTo("time");

    JsonObject assistant = output.assistantMessage();
    assertThat(assistant.getString("content")).isEqualTo("Let me check.");
    assertThat(assistant.getJsonArray("tool_calls")).containsExactly(
        new JsonObject().put("id", "call_a").put("type", "function").put("function",
            new JsonObject().put("name", "weather").put("arguments", "{\"city\":\"Oslo\"}")),
        new JsonObject().put("id", "call_b").put("type", "function").put("function",
            new JsonObject().put("name", "time").put("arguments", "{}")));
  }

  @Test
  void reasoningIsAnItemOfItsOwnBeforeTheMessage() {
    output.add("", new JsonObject().put("delta", new JsonObject().put("reasoning_content", "think ")));
    output.add("", new JsonObject().put("delta", new JsonObject().put("reasoning_content", "hard")));
    output.add("Four.", null);
    output.finish("incomplete");
    assertThat(types).containsExactly(
        "response.output_item.added", "response.content_part.added",
        "response.reasoning_text.delta", "response.reasoning_text.delta",
        "response.reasoning_text.done", "response.content_part.done", "response.output_item.done",
        "response.output_item.added", "response.content_part.added", "response.output_text.delta",
        "response.output_text.done", "response.content_part.done", "response.output_item.done");
    JsonArray items = output.items();
    assertThat(items.getJsonObject(0).getString("type")).isEqualTo("reasoning");
    assertThat(items.getJsonObject(0).getJsonArray("content").getJsonObject(0))
        .isEqualTo(new JsonObject().put("type", "reasoning_text").put("text", "think hard"));
    assertThat(items.getJsonObject(1).getString("status")).isEqualTo("incomplete");
    assertThat(events.get(9).getInteger("output_index")).isEqualTo(1);
    // The stored conversation keeps the answer, not the thinking.
    assertThat(output.assistantMessage()).isEqualTo(new JsonObject().put("role", "assistant").put("content", "Four."));
  }

  @Test
  void eventsWrittenAsTextCarryAnyTextExactly() {
    String tricky = "say \"hi\"\n\tC:\\path \u0001 \uD83D\uDE00 \uD800 end";
    output.add(tricky, null);
    output.add("", toolCallDelta(0, "call_\"x", "f\\n", "{\"q\":\"" + "\\\"" + "\"}"));
    output.finish("completed");

    assertThat(events.get(2).getString("delta")).isEqualTo(tricky);
    assertThat(events.get(3).getString("text")).isEqualTo(tricky);
    assertThat(events.get(4).getJsonObject("part").getString("text")).isEqualTo(tricky);
    assertThat(events.get(6).getJsonObject("item").getString("call_id")).isEqualTo("call_\"x");
    assertThat(events.get(6).getJsonObject("item").getString("name")).isEqualTo("f\\n");
    assertThat(events.get(8).getString("arguments")).isEqualTo("{\"q\":\"\\\"\"}");
    // Each event's item is as it was then, though the item changed after.
    assertThat(events.get(0).getJsonObject("item").getString("status")).isEqualTo("in_progress");
    assertThat(events.get(5).getJsonObject("item").getString("status")).isEqualTo("completed");
  }

  @Test
  void onlyToolCallsStoreANullContentAndAnEmptyAnswerIsAnEmptyMessage() {
    output.add("", toolCallDelta(0, null, "f", "{}"));
    output.finish("completed");
    assertThat(output.items()).hasSize(1);
    assertThat(output.items().getJsonObject(0).getString("call_id")).startsWith("call_");
    assertThat(output.assistantMessage().getValue("content")).isNull();

    ResponseOutput empty = new ResponseOutput("resp_x", new ResponseOutput.Events() {
      @Override
      public StringBuilder start(String type) {
        return new StringBuilder();
      }

      @Override
      public void end() {
      }
    });
    empty.finish("completed");
    assertThat(empty.items()).hasSize(1);
    assertThat(empty.items().getJsonObject(0).getJsonArray("content").getJsonObject(0).getString("text")).isEmpty();
  }
}
