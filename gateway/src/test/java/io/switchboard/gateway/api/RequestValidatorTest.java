package io.switchboard.gateway.api;

import io.switchboard.gateway.http.ApiError;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.SamplingParams;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class RequestValidatorTest {

  private final RequestValidator validator = new RequestValidator();

  private static JsonObject chatBody() {
    return new JsonObject()
        .put("model", "mock-llm")
        .put("messages", new JsonArray()
            .add(new JsonObject().put("role", "system").put("content", "be brief"))
            .add(new JsonObject().put("role", "user").put("content", "hi")));
  }

  private static JsonObject completionBody() {
    return new JsonObject().put("model", "mock-llm").put("prompt", "once upon a time");
  }

  private CompletionRequest chat(JsonObject body) {
    return validator.validate(RequestKind.CHAT, body.toBuffer());
  }

  private CompletionRequest completion(JsonObject body) {
    return validator.validate(RequestKind.COMPLETION, body.toBuffer());
  }

  private ApiError chatError(JsonObject body) {
    return error(RequestKind.CHAT, body.toBuffer());
  }

  private ApiError completionError(JsonObject body) {
    return error(RequestKind.COMPLETION, body.toBuffer());
  }

  private ApiError error(RequestKind kind, Buffer raw) {
    ApiError error = catchThrowableOfType(ApiError.class, () -> validator.validate(kind, raw));
    assertThat(error).as("an ApiError for " + raw).isNotNull();
    assertThat(error.status()).isEqualTo(400);
    assertThat(error.type()).isEqualTo("invalid_request_error");
    assertThat(error.getMessage()).isNotBlank();
    return error;
  }

  // ---- valid bodies

  @Test
  void aValidChatBodyParses() {
    JsonObject body = chatBody()
        .put("temperature", 0.2)
        .put("top_p", 0.9)
        .put("max_tokens", 50)
        .put("stop", new JsonArray().add("\n\n").add("END"))
        .put("seed", 7)
        .put("stream", true)
        .put("stream_options", new JsonObject().put("include_usage", true));

    CompletionRequest request = chat(body);

    assertThat(request.kind()).isEqualTo(RequestKind.CHAT);
    assertThat(request.model()).isEqualTo("mock-llm");
    assertThat(request.prompt()).isEqualTo("system: be brief\nuser: hi\n");
    assertThat(request.stream()).isTrue();
    assertThat(request.includeUsage()).isTrue();
    SamplingParams sampling = request.sampling();
    assertThat(sampling.maxTokens()).isEqualTo(50);
    assertThat(sampling.temperature()).isEqualTo(0.2);
    assertThat(sampling.topP()).isEqualTo(0.9);
    assertThat(sampling.stop()).containsExactly("\n\n", "END");
    assertThat(sampling.seed()).isEqualTo(7L);
    assertThat(request.body()).isEqualTo(body);
  }

  @Test
  void aMinimalChatBodyTakesDefaults() {
    CompletionRequest request = chat(chatBody());

    assertThat(request.stream()).isFalse();
    assertThat(request.includeUsage()).isFalse();
    assertThat(request.sampling().maxTokens()).isNull();
    assertThat(request.sampling().temperature()).isEqualTo(SamplingParams.DEFAULT_TEMPERATURE);
    assertThat(request.sampling().topP()).isEqualTo(SamplingParams.DEFAULT_TOP_P);
    assertThat(request.sampling().stop()).isEmpty();
    assertThat(request.sampling().seed()).isNull();
  }

  @Test
  void aValidCompletionBodyParses() {
    CompletionRequest request = completion(completionBody()
        .put("max_tokens", 16)
        .put("temperature", 0)
        .put("stop", "\n")
        .put("stream", true));

    assertThat(request.kind()).isEqualTo(RequestKind.COMPLETION);
    assertThat(request.prompt()).isEqualTo("once upon a time");
    assertThat(request.sampling().maxTokens()).isEqualTo(16);
    assertThat(request.sampling().temperature()).isZero();
    assertThat(request.sampling().stop()).containsExactly("\n");
    assertThat(request.stream()).isTrue();
    assertThat(request.includeUsage()).isFalse();
  }

  @Test
  void aCompletionPromptMayBeAnArrayOfOneString() {
    CompletionRequest request = completion(completionBody().put("prompt", new JsonArray().add("just one")));

    assertThat(request.prompt()).isEqualTo("just one");
  }

  @Test
  void streamOptionsWithoutIncludeUsageMeansNoUsageChunk() {
    CompletionRequest request = chat(chatBody().put("stream", true).put("stream_options", new JsonObject()));

    assertThat(request.includeUsage()).isFalse();
  }

  @Test
  void unknownExtraFieldsAreAcceptedAndKept() {
    JsonObject body = chatBody()
        .put("logit_bias", new JsonObject().put("50256", -100))
        .put("x_vendor_option", new JsonArray().add(1).add("two"))
        .put("response_format", new JsonObject().put("type", "text"));

    CompletionRequest request = chat(body);

    assertThat(request.body().getJsonObject("logit_bias").getInteger("50256")).isEqualTo(-100);
    assertThat(request.body().getJsonArray("x_vendor_option")).isEqualTo(new JsonArray().add(1).add("two"));
    assertThat(request.body().getJsonObject("response_format").getString("type")).isEqualTo("text");
  }

  @Test
  void maxCompletionTokensIsHonouredForChat() {
    CompletionRequest request = chat(chatBody().put("max_completion_tokens", 33));

    assertThat(request.sampling().maxTokens()).isEqualTo(33);
  }

  @Test
  void maxCompletionTokensTakesPrecedenceOverMaxTokens() {
    CompletionRequest request = chat(chatBody().put("max_tokens", 10).put("max_completion_tokens", 20));

    assertThat(request.sampling().maxTokens()).isEqualTo(20);
  }

  @Test
  void maxCompletionTokensIsValidatedWithItsOwnName() {
    ApiError error = chatError(chatBody().put("max_completion_tokens", 0));

    assertThat(error.param()).isEqualTo("max_completion_tokens");
  }

  @Test
  void contentPartsArrayIsAccepted() {
    JsonObject body = chatBody();
    body.getJsonArray("messages").add(new JsonObject().put("role", "user").put("content", new JsonArray()
        .add(new JsonObject().put("type", "text").put("text", "look at "))
        .add(new JsonObject().put("type", "image_url").put("image_url", new JsonObject().put("url", "x")))
        .add(new JsonObject().put("type", "text").put("text", "this"))));

    CompletionRequest request = chat(body);

    assertThat(request.prompt()).endsWith("user: look at this\n");
  }

  @Test
  void assistantMessageWithToolCallsMayOmitContent() {
    JsonObject body = chatBody();
    body.getJsonArray("messages").add(new JsonObject().put("role", "assistant").put("tool_calls", new JsonArray()));

    CompletionRequest request = chat(body);

    assertThat(request.prompt()).endsWith("assistant: \n");
  }

  @Test
  void integralFloatingPointMaxTokensIsAccepted() {
    assertThat(chat(chatBody().put("max_tokens", 8.0)).sampling().maxTokens()).isEqualTo(8);
  }

  // ---- the body itself

  @Test
  void malformedJsonIsInvalidJson() {
    ApiError error = error(RequestKind.CHAT, Buffer.buffer("{\"model\": \"mock-llm\", "));

    assertThat(error.code()).isEqualTo("invalid_json");
    assertThat(error.param()).isNull();
  }

  @Test
  void emptyBodyIsInvalidJson() {
    ApiError error = error(RequestKind.CHAT, Buffer.buffer());

    assertThat(error.code()).isEqualTo("invalid_json");
    assertThat(error.getMessage()).contains("empty");
    assertThat(error(RequestKind.CHAT, null).code()).isEqualTo("invalid_json");
  }

  @Test
  void jsonArrayBodyIsRefused() {
    ApiError error = error(RequestKind.CHAT, Buffer.buffer("[{\"model\": \"mock-llm\"}]"));

    assertThat(error.code()).isEqualTo("invalid_json");
    assertThat(error.getMessage()).contains("JSON object").contains("array");
  }

  @ParameterizedTest
  @ValueSource(strings = {"42", "\"text\"", "null", "true"})
  void scalarBodiesAreRefused(String body) {
    ApiError error = error(RequestKind.COMPLETION, Buffer.buffer(body));

    assertThat(error.code()).isEqualTo("invalid_json");
  }

  private static Buffer chatWithContentBytes(byte[] content) {
    return Buffer.buffer()
        .appendString("{\"model\": \"mock-llm\", \"messages\": [{\"role\": \"user\", \"content\": \"")
        .appendBytes(content)
        .appendString("\"}]}");
  }

  @Test
  void invalidUtf8IsInvalidJsonNotAnException() {
    byte[][] invalid = {
        {(byte) 0xC3, (byte) 0x28},              // bad continuation byte
        {(byte) 0xFF},                           // never valid in UTF-8
        {(byte) 0x80},                           // continuation byte without a start
        {(byte) 0xE2, (byte) 0x82},              // truncated 3-byte sequence
        {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80}, // 5-byte form
    };
    for (byte[] bad : invalid) {
      ApiError error = error(RequestKind.CHAT, chatWithContentBytes(bad));

      assertThat(error.code()).isEqualTo("invalid_json");
      assertThat(error.param()).isNull();
    }
  }

  @Test
  void invalidUtf8ThatALenientDecoderWouldAcceptIsInvalidJson() {
    byte[][] invalid = {
        {(byte) 0xC0, (byte) 0xAF},                           // overlong encoding of '/'
        {(byte) 0xE0, (byte) 0x80, (byte) 0xAF},              // overlong 3-byte encoding of '/'
        {(byte) 0xED, (byte) 0xA0, (byte) 0x80},              // UTF-16 surrogate U+D800 encoded as UTF-8
        {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // past U+10FFFF
    };
    for (byte[] bad : invalid) {
      ApiError error = error(RequestKind.CHAT, chatWithContentBytes(bad));

      assertThat(error.code()).isEqualTo("invalid_json");
      assertThat(error.getMessage()).contains("UTF-8");
    }
  }

  @Test
  void aUtf16BodyIsInvalidJson() {
    Buffer raw = Buffer.buffer(completionBody().encode().getBytes(StandardCharsets.UTF_16));

    assertThat(error(RequestKind.COMPLETION, raw).code()).isEqualTo("invalid_json");
  }

  @Test
  void invalidUtf8OutsideStringsIsInvalidJson() {
    Buffer raw = Buffer.buffer().appendString("{").appendByte((byte) 0xFF)
        .appendString("\"model\": \"mock-llm\", \"prompt\": \"x\"}");

    assertThat(error(RequestKind.COMPLETION, raw).code()).isEqualTo("invalid_json");
  }

  @Test
  void validMultiByteUtf8IsAccepted() {
    String text = "caf\u00e9 \u4e2d\u6587 \ud83d\ude80";

    CompletionRequest request = validator.validate(RequestKind.CHAT,
        chatWithContentBytes(text.getBytes(StandardCharsets.UTF_8)));

    assertThat(request.prompt()).isEqualTo("user: " + text + "\n");
  }

  @Test
  void aUtf8ByteOrderMarkIsAccepted() {
    Buffer raw = Buffer.buffer().appendBytes(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF})
        .appendBuffer(completionBody().toBuffer());

    assertThat(validator.validate(RequestKind.COMPLETION, raw).prompt()).isEqualTo("once upon a time");
  }

  // ---- model

  @Test
  void missingModel() {
    JsonObject body = chatBody();
    body.remove("model");

    ApiError error = chatError(body);

    assertThat(error.param()).isEqualTo("model");
    assertThat(error.code()).isEqualTo("missing_required_parameter");
  }

  @Test
  void modelNotAString() {
    ApiError error = chatError(chatBody().put("model", 42));

    assertThat(error.param()).isEqualTo("model");
    assertThat(error.code()).isEqualTo("invalid_type");
  }

  @Test
  void blankModel() {
    assertThat(chatError(chatBody().put("model", "  ")).param()).isEqualTo("model");
  }

  // ---- messages

  @Test
  void missingMessages() {
    JsonObject body = chatBody();
    body.remove("messages");

    ApiError error = chatError(body);

    assertThat(error.param()).isEqualTo("messages");
    assertThat(error.code()).isEqualTo("missing_required_parameter");
  }

  @Test
  void messagesNotAnArray() {
    assertThat(chatError(chatBody().put("messages", "hi")).param()).isEqualTo("messages");
  }

  @Test
  void emptyMessages() {
    ApiError error = chatError(chatBody().put("messages", new JsonArray()));

    assertThat(error.param()).isEqualTo("messages");
    assertThat(error.code()).isEqualTo("invalid_value");
  }

  @Test
  void messageNotAnObject() {
    ApiError error = chatError(chatBody().put("messages", new JsonArray().add("hi")));

    assertThat(error.param()).isEqualTo("messages[0]");
    assertThat(error.code()).isEqualTo("invalid_type");
  }

  @Test
  void badRole() {
    JsonObject body = chatBody();
    body.getJsonArray("messages").getJsonObject(1).put("role", "robot");

    ApiError error = chatError(body);

    assertThat(error.param()).isEqualTo("messages[1].role");
    assertThat(error.getMessage()).contains("robot").contains("assistant").contains("user");
  }

  @Test
  void roleNotAString() {
    JsonObject body = chatBody();
    body.getJsonArray("messages").getJsonObject(0).put("role", 3);

    assertThat(chatError(body).param()).isEqualTo("messages[0].role");
  }

  @Test
  void missingRole() {
    JsonObject body = chatBody();
    body.getJsonArray("messages").getJsonObject(1).remove("role");

    ApiError error = chatError(body);

    assertThat(error.param()).isEqualTo("messages[1].role");
    assertThat(error.code()).isEqualTo("missing_required_parameter");
  }

  @Test
  void missingContentForUser() {
    JsonObject body = chatBody();
    body.getJsonArray("messages").getJsonObject(1).remove("content");

    ApiError error = chatError(body);

    assertThat(error.param()).isEqualTo("messages[1].content");
    assertThat(error.code()).isEqualTo("missing_required_parameter");
  }

  @Test
  void contentOfTheWrongType() {
    JsonObject body = chatBody();
    body.getJsonArray("messages").getJsonObject(1).put("content", 5);

    assertThat(chatError(body).param()).isEqualTo("messages[1].content");
  }

  @Test
  void contentPartWithoutType() {
    JsonObject body = chatBody();
    body.getJsonArray("messages").getJsonObject(1).put("content", new JsonArray().add(new JsonObject()));

    assertThat(chatError(body).param()).isEqualTo("messages[1].content[0]");
  }

  @Test
  void textContentPartWithoutText() {
    JsonObject body = chatBody();
    body.getJsonArray("messages").getJsonObject(0)
        .put("content", new JsonArray().add(new JsonObject().put("type", "text")));

    assertThat(chatError(body).param()).isEqualTo("messages[0].content[0].text");
  }

  // ---- sampling fields

  @Test
  void temperatureAboveTwo() {
    ApiError error = chatError(chatBody().put("temperature", 3));

    assertThat(error.param()).isEqualTo("temperature");
    assertThat(error.code()).isEqualTo("invalid_value");
  }

  @Test
  void temperatureNotANumber() {
    ApiError error = chatError(chatBody().put("temperature", "hot"));

    assertThat(error.param()).isEqualTo("temperature");
    assertThat(error.code()).isEqualTo("invalid_type");
  }

  @Test
  void negativeTopP() {
    assertThat(chatError(chatBody().put("top_p", -1)).param()).isEqualTo("top_p");
  }

  @Test
  void penaltiesOutOfRange() {
    assertThat(chatError(chatBody().put("presence_penalty", 2.5)).param()).isEqualTo("presence_penalty");
    assertThat(chatError(chatBody().put("frequency_penalty", -3)).param()).isEqualTo("frequency_penalty");
  }

  @Test
  void maxTokensZero() {
    ApiError error = chatError(chatBody().put("max_tokens", 0));

    assertThat(error.param()).isEqualTo("max_tokens");
    assertThat(error.code()).isEqualTo("invalid_value");
  }

  @Test
  void maxTokensNotANumber() {
    ApiError error = chatError(chatBody().put("max_tokens", "abc"));

    assertThat(error.param()).isEqualTo("max_tokens");
    assertThat(error.code()).isEqualTo("invalid_type");
  }

  @Test
  void maxTokensNotAnInteger() {
    ApiError error = completionError(completionBody().put("max_tokens", 1.5));

    assertThat(error.param()).isEqualTo("max_tokens");
    assertThat(error.code()).isEqualTo("invalid_type");
  }

  @Test
  void maxTokensBeyondAnInt() {
    assertThat(chatError(chatBody().put("max_tokens", 3_000_000_000L)).param()).isEqualTo("max_tokens");
    assertThat(chatError(chatBody().put("max_tokens", 1e300)).param()).isEqualTo("max_tokens");
  }

  @Test
  void moreThanOneChoice() {
    ApiError error = chatError(chatBody().put("n", 2));

    assertThat(error.param()).isEqualTo("n");
    assertThat(chat(chatBody().put("n", 1)).model()).isEqualTo("mock-llm");
  }

  @Test
  void bestOfOtherThanOneForCompletions() {
    assertThat(completionError(completionBody().put("best_of", 3)).param()).isEqualTo("best_of");
  }

  @Test
  void fiveStopSequences() {
    JsonArray stops = new JsonArray().add("a").add("b").add("c").add("d").add("e");

    ApiError error = chatError(chatBody().put("stop", stops));

    assertThat(error.param()).isEqualTo("stop");
    assertThat(chat(chatBody().put("stop", new JsonArray().add("a").add("b").add("c").add("d")))
        .sampling().stop()).hasSize(4);
  }

  @Test
  void stopWithANonStringEntry() {
    ApiError error = chatError(chatBody().put("stop", new JsonArray().add(1).add("b")));

    assertThat(error.param()).isEqualTo("stop[0]");
    assertThat(error.code()).isEqualTo("invalid_type");
  }

  @Test
  void stopOfTheWrongTypeOrEmpty() {
    assertThat(chatError(chatBody().put("stop", 5)).param()).isEqualTo("stop");
    assertThat(chatError(chatBody().put("stop", "")).param()).isEqualTo("stop");
  }

  @Test
  void seedNotAnInteger() {
    assertThat(chatError(chatBody().put("seed", "lucky")).param()).isEqualTo("seed");
  }

  @Test
  void userNotAString() {
    assertThat(chatError(chatBody().put("user", 12)).param()).isEqualTo("user");
  }

  // ---- streaming

  @Test
  void streamNotABoolean() {
    ApiError error = chatError(chatBody().put("stream", "yes"));

    assertThat(error.param()).isEqualTo("stream");
    assertThat(error.code()).isEqualTo("invalid_type");
  }

  @Test
  void streamOptionsWithoutStream() {
    ApiError error = chatError(chatBody().put("stream_options", new JsonObject().put("include_usage", true)));

    assertThat(error.param()).isEqualTo("stream_options");
    assertThat(chatError(chatBody().put("stream", false)
        .put("stream_options", new JsonObject().put("include_usage", true))).param()).isEqualTo("stream_options");
  }

  @Test
  void streamOptionsNotAnObject() {
    assertThat(chatError(chatBody().put("stream", true).put("stream_options", true)).param())
        .isEqualTo("stream_options");
  }

  @Test
  void includeUsageNotABoolean() {
    ApiError error = chatError(chatBody().put("stream", true)
        .put("stream_options", new JsonObject().put("include_usage", "yes")));

    assertThat(error.param()).isEqualTo("stream_options.include_usage");
  }

  // ---- completions prompt

  @Test
  void completionPromptMissing() {
    ApiError error = completionError(new JsonObject().put("model", "mock-llm"));

    assertThat(error.param()).isEqualTo("prompt");
    assertThat(error.code()).isEqualTo("missing_required_parameter");
  }

  @Test
  void completionPromptArrayOfTwoStrings() {
    ApiError error = completionError(completionBody().put("prompt", new JsonArray().add("a").add("b")));

    assertThat(error.param()).isEqualTo("prompt");
    assertThat(error.code()).isEqualTo("invalid_value");
  }

  @Test
  void completionPromptOfTokenIds() {
    assertThat(completionError(completionBody().put("prompt", new JsonArray().add(1).add(2))).param())
        .isEqualTo("prompt");
    assertThat(completionError(completionBody().put("prompt", 17)).param()).isEqualTo("prompt");
  }

  @Test
  void chatBodyOnTheCompletionsEndpointNeedsAPrompt() {
    assertThat(completionError(chatBody()).param()).isEqualTo("prompt");
  }

  @Test
  void errorJsonHasOpenAisShape() {
    JsonObject json = chatError(chatBody().put("n", 2)).toJson();

    JsonObject error = json.getJsonObject("error");
    assertThat(error.fieldNames()).containsExactlyInAnyOrder("message", "type", "param", "code");
    assertThat(error.getString("param")).isEqualTo("n");
    assertThat(error.getString("type")).isEqualTo("invalid_request_error");
  }

  @Test
  void theGatewaysTokenCapTravelsWithEveryRequestSoAnOmittedLimitIsStillBounded() {
    RequestValidator capped = new RequestValidator(new io.switchboard.gateway.security.LimitOptions().setMaxTokens(500));

    CompletionRequest omitted = capped.validate(RequestKind.CHAT, chatBody().toBuffer());
    assertThat(omitted.sampling().maxTokens()).isNull();
    assertThat(omitted.sampling().tokenCap()).isEqualTo(500);
    assertThat(omitted.sampling().tokenLimit()).isEqualTo(500);
    assertThat(capped.validate(RequestKind.CHAT, chatBody().put("max_tokens", 20).toBuffer()).sampling().tokenLimit())
        .isEqualTo(20);
    RequestValidator uncapped = new RequestValidator(new io.switchboard.gateway.security.LimitOptions().setMaxTokens(0));
    assertThat(uncapped.validate(RequestKind.CHAT, chatBody().toBuffer()).sampling().tokenCap()).isNull();
  }

  @Test
  void logprobsAlternativesAreBoundedAsOpenAiBoundsThem() {
    assertThat(chat(chatBody().put("logprobs", true).put("top_logprobs", 20))).isNotNull();
    ApiError tooMany = chatError(chatBody().put("logprobs", true).put("top_logprobs", 50000));
    assertThat(tooMany.status()).isEqualTo(400);
    assertThat(tooMany.param()).isEqualTo("top_logprobs");
    assertThat(tooMany.getMessage()).contains("between 0 and 20");
    assertThat(completionError(completionBody().put("logprobs", 100000)).param()).isEqualTo("logprobs");
    assertThat(completion(completionBody().put("logprobs", 5))).isNotNull();
  }
}
