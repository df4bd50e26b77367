package io.switchboard.gateway.dialect.messages;

import io.switchboard.gateway.api.CompletionRequest;
import io.switchboard.gateway.api.RequestValidator;
import io.switchboard.gateway.http.ApiError;
import io.switchboard.gateway.security.LimitOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class MessagesTranslatorTest {

  private static JsonObject base() {
    return new JsonObject().put("model", "m").put("max_tokens", 64)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")));
  }

  private static JsonObject chat(JsonObject body) {
    return MessagesTranslator.toChat(body, false);
  }

  private static ApiError refused(JsonObject body) {
    ApiError error = catchThrowableOfType(ApiError.class, () -> chat(body));
    assertThat(error).as("refused: %s", body).isNotNull();
    assertThat(error.status()).isEqualTo(400);
    assertThat(AnthropicErrors.toJson(error).getJsonObject("error").getString("type"))
        .isEqualTo("invalid_request_error");
    return error;
  }

  @Test
  void aPlainRequestBecomesAChatBody() {
    JsonObject chat = chat(base().put("stream", true).put("temperature", 0.5).put("top_p", 0.9).put("top_k", 40)
        .put("stop_sequences", new JsonArray().add("END").add("###"))
        .put("metadata", new JsonObject().put("user_id", "u-1"))
        .put("system", "be brief").put("service_tier", "auto"));
    assertThat(chat).isEqualTo(new JsonObject().put("model", "m")
        .put("messages", new JsonArray()
            .add(new JsonObject().put("role", "system").put("content", "be brief"))
            .add(new JsonObject().put("role", "user").put("content", "hi")))
        .put("max_tokens", 64).put("stream", true).put("temperature", 0.5).put("top_p", 0.9).put("top_k", 40)
        .put("stop", new JsonArray().add("END").add("###")).put("user", "u-1"));
    CompletionRequest request = new RequestValidator().validate(io.switchboard.protocol.RequestKind.CHAT, chat);
    assertThat(request.stream()).isTrue();
    assertThat(request.sampling().maxTokens()).isEqualTo(64);
    assertThat(request.sampling().stop()).containsExactly("END", "###");
    assertThat(request.prompt()).isEqualTo("system: be brief\nuser: hi\n");
  }

  @Test
  void aMidConversationSystemMessageIsUserTextWhereItStands() {
    // What Claude Code sends (its mid-conversation-system beta): the user's turn, then a system message.
    JsonObject chat = chat(base().put("system", "top").put("messages", new JsonArray()
        .add(new JsonObject().put("role", "user").put("content", new JsonArray()
            .add(new JsonObject().put("type", "text").put("text", "reminder"))
            .add(new JsonObject().put("type", "text").put("text", "say hi"))))
        .add(new JsonObject().put("role", "system").put("content", "agent types: a, b"))
        .add(new JsonObject().put("role", "assistant").put("content", "hi"))
        .add(new JsonObject().put("role", "system").put("content", new JsonArray()
            .add(new JsonObject().put("type", "text").put("text", "later note"))))));
    assertThat(chat.getJsonArray("messages")).containsExactly(
        new JsonObject().put("role", "system").put("content", "top"),
        new JsonObject().put("role", "user").put("content", "reminder\nsay hi\n\nagent types: a, b"),
        new JsonObject().put("role", "assistant").put("content", "hi"),
        new JsonObject().put("role", "user").put("content", "later note"));
  }

  @Test
  void systemBlocksJoinIntoOneSystemMessage() {
    JsonObject chat = chat(base().put("system", new JsonArray()
        .add(new JsonObject().put("type", "text").put("text", "one").put("cache_control",
            new JsonObject().put("type", "ephemeral")))
        .add(new JsonObject().put("type", "text").put("text", "two"))));
    assertThat(chat.getJsonArray("messages").getJsonObject(0))
        .isEqualTo(new JsonObject().put("role", "system").put("content", "one\ntwo"));
    assertThat(refused(base().put("system", 3)).getMessage()).contains("'system' must be a string or an array");
    assertThat(refused(base().put("system", new JsonArray().add(new JsonObject().put("type", "image"))))
        .param()).isEqualTo("system[0]");
  }

  @Test
  void toolUseAndToolResultBecomeToolCallsAndToolMessages() {
    JsonObject body = base().put("messages", new JsonArray()
        .add(new JsonObject().put("role", "user").put("content", "weather?"))
        .add(new JsonObject().put("role", "assistant").put("content", new JsonArray()
            .add(new JsonObject().put("type", "thinking").put("thinking", "hmm").put("signature", "s"))
            .add(new JsonObject().put("type", "text").put("text", "Let me look."))
            .add(new JsonObject().put("type", "tool_use").put("id", "toolu_1").put("name", "weather")
                .put("input", new JsonObject().put("city", "Oslo")))))
        .add(new JsonObject().put("role", "user").put("content", new JsonArray()
            .add(new JsonObject().put("type", "tool_result").put("tool_use_id", "toolu_1")
                .put("content", new JsonArray().add(new JsonObject().put("type", "text").put("text", "3 C"))))
            .add(new JsonObject().put("type", "tool_result").put("tool_use_id", "toolu_2").put("content", "boom")
                .put("is_error", true))
            .add(new JsonObject().put("type", "text").put("text", "thanks")))));
    JsonArray messages = chat(body).getJsonArray("messages");
    assertThat(messages).hasSize(5);
    assertThat(messages.getJsonObject(1)).isEqualTo(new JsonObject().put("role", "assistant")
        .put("content", "Let me look.").put("tool_calls", new JsonArray().add(new JsonObject().put("id", "toolu_1")
            .put("type", "function").put("function", new JsonObject().put("name", "weather")
                .put("arguments", "{\"city\":\"Oslo\"}")))));
    assertThat(messages.getJsonObject(2)).isEqualTo(new JsonObject().put("role", "tool")
        .put("tool_call_id", "toolu_1").put("content", "3 C"));
    assertThat(messages.getJsonObject(3)).isEqualTo(new JsonObject().put("role", "tool")
        .put("tool_call_id", "toolu_2").put("content", "Error: boom"));
    assertThat(messages.getJsonObject(4)).isEqualTo(new JsonObject().put("role", "user").put("content", "thanks"));
    // An assistant turn of tool calls only has no text: content null, which the chat validator accepts.
    JsonObject onlyTool = base().put("messages", new JsonArray()
        .add(new JsonObject().put("role", "user").put("content", "go"))
        .add(new JsonObject().put("role", "assistant").put("content", new JsonArray()
            .add(new JsonObject().put("type", "tool_use").put("id", "t").put("name", "f")))));
    JsonObject assistant = chat(onlyTool).getJsonArray("messages").getJsonObject(1);
    assertThat(assistant.getValue("content")).isNull();
    assertThat(assistant.getJsonArray("tool_calls").getJsonObject(0).getJsonObject("function")
        .getString("arguments")).isEqualTo("{}");
    new RequestValidator().validate(io.switchboard.protocol.RequestKind.CHAT, chat(onlyTool));
  }

  @Test
  void toolsAndToolChoiceBecomeFunctionTools() {
    JsonObject schema = new JsonObject().put("type", "object").put("properties", new JsonObject());
    JsonObject body = base().put("tools", new JsonArray()
        .add(new JsonObject().put("name", "weather").put("description", "d").put("input_schema", schema))
        .add(new JsonObject().put("type", "custom").put("name", "clock").put("input_schema", schema)));
    JsonObject chat = chat(body.copy().put("tool_choice", new JsonObject().put("type", "tool").put("name", "clock")
        .put("disable_parallel_tool_use", true)));
    assertThat(chat.getJsonArray("tools")).isEqualTo(new JsonArray()
        .add(new JsonObject().put("type", "function").put("function", new JsonObject().put("name", "weather")
            .put("description", "d").put("parameters", schema)))
        .add(new JsonObject().put("type", "function").put("function", new JsonObject().put("name", "clock")
            .put("parameters", schema))));
    assertThat(chat.getJsonObject("tool_choice")).isEqualTo(new JsonObject().put("type", "function")
        .put("function", new JsonObject().put("name", "clock")));
    assertThat(chat.getBoolean("parallel_tool_calls")).isFalse();
    assertThat(chat(body.copy().put("tool_choice", new JsonObject().put("type", "auto"))).getString("tool_choice"))
        .isEqualTo("auto");
    assertThat(chat(body.copy().put("tool_choice", new JsonObject().put("type", "any"))).getString("tool_choice"))
        .isEqualTo("required");
    assertThat(chat(body.copy().put("tool_choice", new JsonObject().put("type", "none"))).getString("tool_choice"))
        .isEqualTo("none");
    assertThat(refused(body.copy().put("tool_choice", new JsonObject().put("type", "tool").put("name", "nope")))
        .getMessage()).contains("clock, weather").contains("'nope'");
    assertThat(refused(body.copy().put("tool_choice", new JsonObject().put("type", "sometimes"))).getMessage())
        .contains("[auto, any, tool, none]");
    assertThat(refused(base().put("tool_choice", new JsonObject().put("type", "any"))).getMessage())
        .contains("no 'tools'");
    assertThat(refused(base().put("tools", new JsonArray().add(new JsonObject().put("type", "web_search_20250305")
        .put("name", "web_search")))).getMessage()).contains("server tool").contains("client tools");
    assertThat(refused(base().put("tools", new JsonArray().add(new JsonObject().put("name", "x")))).param())
        .isEqualTo("tools[0].input_schema");
    assertThat(refused(base().put("tools", new JsonArray()
        .add(new JsonObject().put("name", "x").put("input_schema", schema))
        .add(new JsonObject().put("name", "x").put("input_schema", schema)))).getMessage()).contains("unique");
  }

  @Test
  void maxTokensIsRequiredAndSaysHowToFixIt() {
    JsonObject body = base();
    body.remove("max_tokens");
    ApiError missing = refused(body);
    assertThat(missing.param()).isEqualTo("max_tokens");
    assertThat(missing.getMessage()).startsWith("max_tokens: Field required").contains("\"max_tokens\": 1024");
    assertThat(MessagesTranslator.toChat(body, true).containsKey("max_tokens")).as("count_tokens needs none").isFalse();
    assertThat(refused(base().put("max_tokens", 0)).getMessage()).contains("positive integer");
    assertThat(refused(base().put("max_tokens", "10")).param()).isEqualTo("max_tokens");
    assertThat(refused(base().put("max_tokens", 1.5)).param()).isEqualTo("max_tokens");
  }

  @Test
  void everyBadFieldIsNamed() {
    JsonObject noModel = base();
    noModel.remove("model");
    assertThat(refused(noModel).getMessage()).startsWith("model: Field required");
    assertThat(refused(base().put("model", "")).param()).isEqualTo("model");
    JsonObject noMessages = base();
    noMessages.remove("messages");
    assertThat(refused(noMessages).getMessage()).startsWith("messages: Field required");
    assertThat(refused(base().put("messages", new JsonArray())).getMessage()).contains("at least one");
    assertThat(refused(base().put("messages", "hi")).param()).isEqualTo("messages");
    assertThat(refused(base().put("messages", new JsonArray().add(new JsonObject().put("role", "robot")
        .put("content", "x")))).param()).isEqualTo("messages[0].role");
    assertThat(refused(base().put("messages", new JsonArray().add(new JsonObject().put("role", "user"))))
        .param()).isEqualTo("messages[0].content");
    assertThat(refused(base().put("messages", new JsonArray().add(new JsonObject().put("role", "user")
        .put("content", 5)))).param()).isEqualTo("messages[0].content");
    ApiError image = refused(base().put("messages", new JsonArray().add(new JsonObject().put("role", "user")
        .put("content", new JsonArray().add(new JsonObject().put("type", "text").put("text", "look"))
            .add(new JsonObject().put("type", "image").put("source", new JsonObject()))))));
    assertThat(image.param()).isEqualTo("messages[0].content[1].type");
    assertThat(image.getMessage()).contains("does not serve image input");
    assertThat(refused(base().put("messages", new JsonArray().add(new JsonObject().put("role", "user")
        .put("content", new JsonArray().add(new JsonObject().put("type", "document")))))).getMessage())
        .contains("does not serve document input");
    assertThat(refused(base().put("messages", new JsonArray().add(new JsonObject().put("role", "user")
        .put("content", new JsonArray().add(new JsonObject().put("type", "tool_result").put("tool_use_id", "t")
            .put("content", new JsonArray().add(new JsonObject().put("type", "image"))))))))
        .param()).isEqualTo("messages[0].content[0].content[0].type");
    assertThat(refused(base().put("messages", new JsonArray().add(new JsonObject().put("role", "user")
        .put("content", new JsonArray().add(new JsonObject().put("type", "tool_result")))))).param())
        .isEqualTo("messages[0].content[0].tool_use_id");
    assertThat(refused(base().put("messages", new JsonArray().add(new JsonObject().put("role", "assistant")
        .put("content", new JsonArray().add(new JsonObject().put("type", "tool_use").put("id", "t").put("name", "f")
            .put("input", "x")))))).param()).isEqualTo("messages[0].content[0].input");
    assertThat(refused(base().put("messages", new JsonArray().add(new JsonObject().put("role", "user")
        .put("content", new JsonArray().add(new JsonObject().put("type", "tool_use").put("id", "t")
            .put("name", "f")))))).getMessage()).contains("belong in assistant messages");
    assertThat(refused(base().put("messages", new JsonArray().add(new JsonObject().put("role", "user")
        .put("content", new JsonArray().add(new JsonObject().put("type", "web_search_tool_result"))))))
        .getMessage()).contains("serves the content block types");
    assertThat(refused(base().put("temperature", 1.5)).getMessage()).contains("between 0 and 1");
    assertThat(refused(base().put("top_p", -0.1)).param()).isEqualTo("top_p");
    assertThat(refused(base().put("top_k", -1)).param()).isEqualTo("top_k");
    assertThat(refused(base().put("stream", "yes")).param()).isEqualTo("stream");
    assertThat(refused(base().put("stop_sequences", new JsonArray().add("a").add("b").add("c").add("d").add("e")))
        .getMessage()).contains("at most 4");
    assertThat(refused(base().put("stop_sequences", new JsonArray().add(""))).param())
        .isEqualTo("stop_sequences[0]");
    assertThat(refused(base().put("stop_sequences", "END")).param()).isEqualTo("stop_sequences");
    assertThat(refused(base().put("metadata", new JsonObject().put("user_id", 7))).param())
        .isEqualTo("metadata.user_id");
    assertThat(refused(base().put("thinking", new JsonObject().put("type", "enabled"))).param())
        .isEqualTo("thinking.budget_tokens");
    assertThat(refused(base().put("thinking", true)).param()).isEqualTo("thinking");
  }

  @Test
  void thinkingIsAcceptedAndNotPassedOn() {
    JsonObject chat = chat(base().put("thinking", new JsonObject().put("type", "enabled").put("budget_tokens", 2048)));
    assertThat(chat.containsKey("thinking")).isFalse();
    chat(base().put("thinking", new JsonObject().put("type", "disabled")));
  }

  @Test
  void aRequestGoesAsWrittenToNativeBackendsUnlessTheGatewayReshapedIt() {
    RequestValidator validator = new RequestValidator();
    CompletionRequest plain = MessagesDialect.read(validator, base());
    assertThat(plain.nativeForm().dialect()).isEqualTo("messages");
    assertThat(plain.nativeForm().body()).isEqualTo(base());
    CompletionRequest reshaped = MessagesDialect.read(validator, base().put("messages", new JsonArray()
        .add(new JsonObject().put("role", "user").put("content", "hi"))
        .add(new JsonObject().put("role", "system").put("content", "note"))));
    assertThat(reshaped.nativeForm()).as("a mid-conversation system message is the gateway's to reshape").isNull();
  }

  @Test
  void maxTokensIsACeilingBoundedByTheGatewaysCap() {
    // Claude Code asks for 32,000: more than the gateway's cap (and many models' context). Not refused: bounded.
    RequestValidator validator = new RequestValidator(new LimitOptions().setMaxTokens(100));
    CompletionRequest large = MessagesDialect.read(validator, base().put("max_tokens", 32_000));
    assertThat(large.sampling().maxTokens()).as("no demand the worker would refuse").isNull();
    assertThat(large.sampling().tokenLimit()).isEqualTo(100);
    assertThat(large.body().containsKey("max_tokens")).isFalse();
    CompletionRequest small = MessagesDialect.read(validator, base().put("max_tokens", 16));
    assertThat(small.sampling().tokenLimit()).isEqualTo(16);
  }
}
