package io.switchboard.gateway.dialect.responses;

import io.switchboard.gateway.api.CompletionRequest;
import io.switchboard.gateway.api.RequestValidator;
import io.switchboard.gateway.http.ApiError;
import io.switchboard.gateway.security.LimitOptions;
import io.switchboard.protocol.RequestKind;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The Responses request read and translated into a chat body, and every bad field named in its 400. */
class ResponsesRequestTest {

  private final RequestValidator validator = new RequestValidator(new LimitOptions());

  private static JsonObject body(String json) {
    return new JsonObject(json);
  }

  /** Reads the body as the dialect does (Responses checks, then the chat validator); no previous response. */
  private CompletionRequest read(JsonObject body) {
    return read(body, null);
  }

  private CompletionRequest read(JsonObject body, JsonArray prior) {
    ResponsesRequest request = ResponsesRequest.read(body);
    try {
      return validator.validate(RequestKind.CHAT, request.chatBody(prior));
    } catch (ApiError invalid) {
      throw ResponsesDialect.renamed(invalid, request, prior);
    }
  }

  private ApiError error(String json, String param) {
    ApiError error = catchThrowableOfType(ApiError.class, () -> read(body(json)));
    assertThat(error).as("an ApiError for " + json).isNotNull();
    assertThat(error.status()).isEqualTo(400);
    assertThat(error.type()).isEqualTo("invalid_request_error");
    assertThat(error.param()).as(error.getMessage()).isEqualTo(param);
    assertThat(error.getMessage()).isNotBlank();
    return error;
  }

  @Test
  void aStringInputIsOneUserMessage() {
    CompletionRequest request = read(body("{\"model\":\"m\",\"input\":\"hello\"}"));
    assertThat(request.kind()).isEqualTo(RequestKind.CHAT);
    assertThat(request.model()).isEqualTo("m");
    assertThat(request.body().getJsonArray("messages")).containsExactly(
        new JsonObject().put("role", "user").put("content", "hello"));
    assertThat(request.prompt()).isEqualTo("user: hello\n");
    assertThat(request.stream()).isFalse();
    assertThat(request.body().getBoolean("stream")).isFalse();
  }

  @Test
  void instructionsLeadAndItemsBecomeChatMessages() {
    CompletionRequest request = read(body("""
        {"model":"m","instructions":"be brief","input":[
          {"role":"developer","content":"use metric units"},
          {"type":"message","role":"user","content":[{"type":"input_text","text":"weather "},
            {"type":"input_text","text":"in Oslo?"}]},
          {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Let me look."}]},
          {"type":"function_call","call_id":"call_1","name":"weather","arguments":"{\\"city\\":\\"Oslo\\"}"},
          {"type":"function_call","call_id":"call_2","name":"time","arguments":"{}"},
          {"type":"reasoning","id":"rs_1","summary":[]},
          {"type":"function_call_output","call_id":"call_1","output":"4 C"},
          {"type":"function_call_output","call_id":"call_2","output":[{"type":"input_text","text":"noon"}]},
          {"role":"system","content":"answer now"}]}
        """));
    JsonArray messages = request.body().getJsonArray("messages");
    assertThat(messages).hasSize(7);
    assertThat(messages.getJsonObject(0)).isEqualTo(new JsonObject().put("role", "system").put("content", "be brief"));
    assertThat(messages.getJsonObject(1)).isEqualTo(new JsonObject().put("role", "system")
        .put("content", "use metric units"));
    assertThat(messages.getJsonObject(2).getString("content")).isEqualTo("weather in Oslo?");
    JsonObject assistant = messages.getJsonObject(3);
    assertThat(assistant.getString("role")).isEqualTo("assistant");
    assertThat(assistant.getString("content")).isEqualTo("Let me look.");
    assertThat(assistant.getJsonArray("tool_calls")).containsExactly(
        new JsonObject().put("id", "call_1").put("type", "function").put("function",
            new JsonObject().put("name", "weather").put("arguments", "{\"city\":\"Oslo\"}")),
        new JsonObject().put("id", "call_2").put("type", "function").put("function",
            new JsonObject().put("name", "time").put("arguments", "{}")));
    assertThat(messages.getJsonObject(4)).isEqualTo(new JsonObject().put("role", "tool")
        .put("tool_call_id", "call_1").put("content", "4 C"));
    assertThat(messages.getJsonObject(5).getString("content")).isEqualTo("noon");
    assertThat(messages.getJsonObject(6).getString("role")).isEqualTo("system");
  }

  @Test
  void aFunctionCallAfterAUserMessageIsItsOwnAssistantTurn() {
    JsonArray messages = read(body("""
        {"model":"m","input":[{"role":"user","content":"hi"},
          {"type":"function_call","call_id":"c","name":"f","arguments":"{}"},
          {"type":"function_call_output","call_id":"c","output":"ok"}]}
        """)).body().getJsonArray("messages");
    assertThat(messages.getJsonObject(1).getValue("content")).isNull();
    assertThat(messages.getJsonObject(1).containsKey("content")).isTrue();
    assertThat(messages.getJsonObject(1).getJsonArray("tool_calls")).hasSize(1);
  }

  @Test
  void settingsTranslateToTheirChatNames() {
    CompletionRequest request = read(body("""
        {"model":"m","input":"hi","max_output_tokens":50,"temperature":0.3,"top_p":0.9,"stream":true,
         "user":"u1","parallel_tool_calls":false,"reasoning":{"effort":"high","summary":"auto"},
         "metadata":{"k":"v"},"store":false,
         "tools":[{"type":"function","name":"weather","description":"the weather","strict":true,
           "parameters":{"type":"object","properties":{"city":{"type":"string"}}}}],
         "tool_choice":{"type":"function","name":"weather"},
         "text":{"format":{"type":"json_schema","name":"out","schema":{"type":"object"},"strict":true}}}
        """));
    JsonObject chat = request.body();
    assertThat(chat.getInteger("max_tokens")).isEqualTo(50);
    assertThat(request.sampling().maxTokens()).isEqualTo(50);
    assertThat(request.sampling().temperature()).isEqualTo(0.3);
    assertThat(request.sampling().topP()).isEqualTo(0.9);
    assertThat(request.stream()).isTrue();
    assertThat(chat.getString("user")).isEqualTo("u1");
    assertThat(chat.getBoolean("parallel_tool_calls")).isFalse();
    assertThat(chat.getString("reasoning_effort")).isEqualTo("high");
    assertThat(chat.getJsonArray("tools")).containsExactly(new JsonObject().put("type", "function")
        .put("function", new JsonObject().put("name", "weather").put("description", "the weather")
            .put("parameters", new JsonObject("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}"))
            .put("strict", true)));
    assertThat(chat.getJsonObject("tool_choice")).isEqualTo(new JsonObject().put("type", "function")
        .put("function", new JsonObject().put("name", "weather")));
    assertThat(chat.getJsonObject("response_format")).isEqualTo(new JsonObject().put("type", "json_schema")
        .put("json_schema", new JsonObject().put("name", "out").put("schema", new JsonObject().put("type", "object"))
            .put("strict", true)));
    // What only the Responses API knows stays out of the worker's body.
    assertThat(chat.fieldNames()).doesNotContain("metadata", "store", "input", "instructions", "reasoning", "text",
        "max_output_tokens");
    ResponsesRequest responses = ResponsesRequest.read(body("{\"model\":\"m\",\"input\":\"hi\",\"store\":false}"));
    assertThat(responses.store).isFalse();
    assertThat(ResponsesRequest.read(body("{\"model\":\"m\",\"input\":\"hi\"}")).store).isTrue();
  }

  @Test
  void toolChoiceModesPassThrough() {
    for (String mode : new String[] {"auto", "none", "required"}) {
      assertThat(read(body("{\"model\":\"m\",\"input\":\"hi\",\"tool_choice\":\"" + mode + "\"}")).body()
          .getString("tool_choice")).isEqualTo(mode);
    }
  }

  @Test
  void aChainedRequestStartsFromThePreviousConversationAfterTheInstructions() {
    JsonArray prior = new JsonArray().add(new JsonObject().put("role", "user").put("content", "first"))
        .add(new JsonObject().put("role", "assistant").put("content", "one"));
    CompletionRequest request = read(body("{\"model\":\"m\",\"instructions\":\"sys\",\"input\":\"second\","
        + "\"previous_response_id\":\"resp_1\"}"), prior);
    assertThat(request.body().getJsonArray("messages").stream().map(m -> ((JsonObject) m).getString("content")))
        .containsExactly("sys", "first", "one", "second");
    ResponsesRequest responses = ResponsesRequest.read(body("{\"model\":\"m\",\"instructions\":\"sys\","
        + "\"input\":\"second\",\"previous_response_id\":\"resp_1\"}"));
    assertThat(responses.previousResponseId).isEqualTo("resp_1");
    assertThat(responses.conversation(prior).stream().map(m -> ((JsonObject) m).getString("content")))
        .containsExactly("first", "one", "second");
  }

  @Test
  void badInputNamesItsField() {
    error("{\"input\":\"hi\"}", "model");
    error("{\"model\":3,\"input\":\"hi\"}", "model");
    error("{\"model\":\" \",\"input\":\"hi\"}", "model");
    error("{\"model\":\"m\"}", "input");
    error("{\"model\":\"m\",\"input\":[]}", "input");
    error("{\"model\":\"m\",\"input\":5}", "input");
    error("{\"model\":\"m\",\"input\":[\"hi\"]}", "input[0]");
    error("{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"user\",\"content\":\"b\"},"
        + "{\"role\":\"wizard\",\"content\":\"c\"}]}", "input[2].role");
    error("{\"model\":\"m\",\"input\":[{\"content\":\"c\"}]}", "input[0].role");
    error("{\"model\":\"m\",\"input\":[{\"role\":\"tool\",\"content\":\"c\"}]}", "input[0].role");
    error("{\"model\":\"m\",\"input\":[{\"role\":\"user\"}]}", "input[0].content");
    error("{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":7}]}", "input[0].content");
    error("{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":[{\"text\":\"x\"}]}]}", "input[0].content[0]");
    error("{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_text\"}]}]}",
        "input[0].content[0].text");
    error("{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"hologram\"}]}]}",
        "input[0].content[0].type");
    error("{\"model\":\"m\",\"input\":[{\"type\":\"function_call\",\"name\":\"f\",\"arguments\":\"{}\"}]}",
        "input[0].call_id");
    error("{\"model\":\"m\",\"input\":[{\"type\":\"function_call\",\"call_id\":\"c\",\"arguments\":\"{}\"}]}",
        "input[0].name");
    error("{\"model\":\"m\",\"input\":[{\"type\":\"function_call\",\"call_id\":\"c\",\"name\":\"f\","
        + "\"arguments\":{}}]}", "input[0].arguments");
    error("{\"model\":\"m\",\"input\":[{\"type\":\"function_call_output\",\"output\":\"x\"}]}", "input[0].call_id");
    error("{\"model\":\"m\",\"input\":[{\"type\":\"function_call_output\",\"call_id\":\"c\"}]}", "input[0].output");
    error("{\"model\":\"m\",\"input\":[{\"type\":\"function_call_output\",\"call_id\":\"c\",\"output\":3}]}",
        "input[0].output");
    error("{\"model\":\"m\",\"input\":[{\"type\":7}]}", "input[0].type");
    error("{\"model\":\"m\",\"input\":\"hi\",\"instructions\":5}", "instructions");
    error("{\"model\":\"m\",\"input\":\"hi\",\"stream\":\"yes\"}", "stream");
    error("{\"model\":\"m\",\"input\":\"hi\",\"store\":1}", "store");
    error("{\"model\":\"m\",\"input\":\"hi\",\"previous_response_id\":5}", "previous_response_id");
    error("{\"model\":\"m\",\"input\":\"hi\",\"max_output_tokens\":0}", "max_output_tokens");
    error("{\"model\":\"m\",\"input\":\"hi\",\"max_output_tokens\":2.5}", "max_output_tokens");
    error("{\"model\":\"m\",\"input\":\"hi\",\"temperature\":\"hot\"}", "temperature");
    error("{\"model\":\"m\",\"input\":\"hi\",\"temperature\":3}", "temperature");
    error("{\"model\":\"m\",\"input\":\"hi\",\"top_p\":2}", "top_p");
    error("{\"model\":\"m\",\"input\":\"hi\",\"user\":5}", "user");
    error("{\"model\":\"m\",\"input\":\"hi\",\"tools\":{}}", "tools");
    error("{\"model\":\"m\",\"input\":\"hi\",\"tools\":[5]}", "tools[0]");
    error("{\"model\":\"m\",\"input\":\"hi\",\"tools\":[{\"type\":\"function\"}]}", "tools[0].name");
    error("{\"model\":\"m\",\"input\":\"hi\",\"tools\":[{\"type\":\"function\",\"name\":\"f\",\"parameters\":3}]}",
        "tools[0].parameters");
    error("{\"model\":\"m\",\"input\":\"hi\",\"tools\":[{\"type\":\"function\",\"name\":\"f\",\"strict\":3}]}",
        "tools[0].strict");
    error("{\"model\":\"m\",\"input\":\"hi\",\"tools\":[{\"type\":\"function\",\"name\":\"f\",\"description\":3}]}",
        "tools[0].description");
    error("{\"model\":\"m\",\"input\":\"hi\",\"tool_choice\":\"always\"}", "tool_choice");
    error("{\"model\":\"m\",\"input\":\"hi\",\"tool_choice\":3}", "tool_choice");
    error("{\"model\":\"m\",\"input\":\"hi\",\"tool_choice\":{\"type\":\"function\"}}", "tool_choice.name");
    error("{\"model\":\"m\",\"input\":\"hi\",\"tool_choice\":{\"type\":\"web_search_preview\"}}", "tool_choice.type");
    error("{\"model\":\"m\",\"input\":\"hi\",\"parallel_tool_calls\":\"yes\"}", "parallel_tool_calls");
    error("{\"model\":\"m\",\"input\":\"hi\",\"reasoning\":\"high\"}", "reasoning");
    error("{\"model\":\"m\",\"input\":\"hi\",\"reasoning\":{\"effort\":\"maximal\"}}", "reasoning.effort");
    error("{\"model\":\"m\",\"input\":\"hi\",\"metadata\":[]}", "metadata");
    error("{\"model\":\"m\",\"input\":\"hi\",\"metadata\":{\"k\":1}}", "metadata.k");
    error("{\"model\":\"m\",\"input\":\"hi\",\"text\":{\"format\":{\"type\":\"yaml\"}}}", "text.format.type");
    error("{\"model\":\"m\",\"input\":\"hi\",\"text\":{\"format\":{\"type\":\"json_schema\"}}}",
        "text.format.schema");
    error("{\"model\":\"m\",\"input\":\"hi\",\"background\":true}", "background");
  }

  @Test
  void leadingSystemMessagesBecomeOne() {
    JsonArray joined = ResponsesRequest.leadingSystemMessagesJoined(new JsonArray()
        .add(new JsonObject().put("role", "system").put("content", "a"))
        .add(new JsonObject().put("role", "system").put("content", "b"))
        .add(new JsonObject().put("role", "user").put("content", "c"))
        .add(new JsonObject().put("role", "system").put("content", "d")));
    assertThat(joined).containsExactly(new JsonObject().put("role", "system").put("content", "a\n\nb"),
        new JsonObject().put("role", "user").put("content", "c"), new JsonObject().put("role", "system").put("content", "d"));
  }

  @Test
  void hostedToolsAndToolGroupsAreLeftOutAndNamed() {
    // What Codex sends: function tools, a namespace of sub-agent tools, and OpenAI's hosted web search.
    ResponsesRequest request = ResponsesRequest.read(body("{\"model\":\"m\",\"input\":\"hi\",\"tools\":["
        + "{\"type\":\"function\",\"name\":\"exec_command\",\"parameters\":{\"type\":\"object\"}},"
        + "{\"type\":\"namespace\",\"name\":\"multi_agent_v1\",\"tools\":[{\"type\":\"function\",\"name\":\"close_agent\"}]},"
        + "{\"type\":\"web_search\",\"external_web_access\":false}]}"));
    assertThat(request.chatFields.getJsonArray("tools")).hasSize(1);
    assertThat(request.chatFields.getJsonArray("tools").getJsonObject(0).getJsonObject("function").getString("name"))
        .isEqualTo("exec_command");
    assertThat(request.leftOutTools).containsExactly("namespace:multi_agent_v1", "web_search");
    assertThat(error("{\"model\":\"m\",\"input\":\"hi\",\"tools\":[{\"type\":7}]}", "tools[0].type")
        .getMessage()).contains("not a tool type");
    assertThat(error("{\"model\":\"m\",\"input\":[{\"type\":\"web_search_call\",\"id\":\"ws\"}]}", "input[0].type")
        .getMessage()).contains("'web_search_call'").contains("not served");
    assertThat(error("{\"model\":\"m\",\"input\":[{\"type\":\"teleport\"}]}", "input[0].type").getMessage())
        .contains("Unknown input item type 'teleport'");
    assertThat(error("{\"model\":\"m\",\"input\":[{\"type\":\"item_reference\",\"id\":\"msg_1\"}]}",
        "input[0].type").getMessage()).contains("previous_response_id");
    for (String part : new String[] {"input_image", "input_file", "input_audio"}) {
      assertThat(error("{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_text\","
          + "\"text\":\"look\"},{\"type\":\"" + part + "\",\"image_url\":\"http://x\"}]}]}", "input[0].content[1].type")
          .getMessage()).contains("'" + part + "'").contains("not served");
    }
  }

  @Test
  void theChatValidatorsLimitsAreNamedInResponsesTerms() {
    LimitOptions limits = new LimitOptions();
    limits.setMaxTokens(100);
    limits.setMaxMessages(2);
    RequestValidator capped = new RequestValidator(limits);
    ResponsesRequest tooMany = ResponsesRequest.read(body("{\"model\":\"m\",\"input\":\"hi\","
        + "\"max_output_tokens\":500}"));
    ApiError tokens = catchThrowableOfType(ApiError.class,
        () -> capped.validate(RequestKind.CHAT, tooMany.chatBody(null)));
    ApiError renamed = ResponsesDialect.renamed(tokens, tooMany, null);
    assertThat(renamed.param()).isEqualTo("max_output_tokens");
    assertThat(renamed.getMessage()).contains("max_output_tokens").doesNotContain("max_tokens");
    ResponsesRequest long3 = ResponsesRequest.read(body("{\"model\":\"m\",\"input\":[{\"role\":\"user\","
        + "\"content\":\"a\"},{\"role\":\"user\",\"content\":\"b\"},{\"role\":\"user\",\"content\":\"c\"}]}"));
    ApiError messages = ResponsesDialect.renamed(catchThrowableOfType(ApiError.class,
        () -> capped.validate(RequestKind.CHAT, long3.chatBody(null))), long3, null);
    assertThat(messages.param()).isEqualTo("input");
    // A message the chat validator refuses is named by the item it came from.
    ApiError item = ResponsesDialect.renamed(ApiError.invalid("messages[2].content", "'messages[2].content' bad"),
        ResponsesRequest.read(body("{\"model\":\"m\",\"instructions\":\"s\",\"input\":[{\"role\":\"user\","
            + "\"content\":\"a\"},{\"type\":\"reasoning\"},{\"role\":\"user\",\"content\":\"b\"}]}")), null);
    assertThat(item.param()).isEqualTo("input[2].content");
    assertThat(item.getMessage()).isEqualTo("'input[2].content' bad");
  }
}
