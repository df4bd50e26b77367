package io.switchboard.gateway.dialect.messages;

import io.switchboard.gateway.api.RequestValidator;
import io.switchboard.gateway.exchange.GatewayServices;
import io.switchboard.gateway.exchange.GenerationHandler;
import io.switchboard.gateway.http.ApiError;
import io.switchboard.gateway.http.ClientText;
import io.switchboard.gateway.http.ErrorResponder;
import io.switchboard.gateway.http.RequestIds;
import io.switchboard.gateway.models.ModelAliases;
import io.switchboard.gateway.security.ApiKey;
import io.switchboard.gateway.security.ApiKeyAuth;
import io.switchboard.protocol.RequestKind;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * {@code POST /v1/messages/count_tokens}: {@code {"input_tokens": N}} for a Messages request ({@code model},
 * {@code messages}, {@code system}, {@code tools}, {@code tool_choice}; checked as {@code /v1/messages} checks them,
 * {@code max_tokens} not required).
 *
 * <p>N is an ESTIMATE, not the model's tokenizer: the gateway has no tokenizer and asking a worker would cost a slot.
 * It is the request as the worker would see it (the prompt text the gateway routes by, the assistant's tool calls and the tools, as JSON)
 * divided by {@link #CHARS_PER_TOKEN} characters per token, rounded up: the usual rule of thumb for English with
 * BPE tokenizers. Code and other languages can come out higher. The answer says so in
 * {@code x-switchboard-token-count: estimate}.
 *
 * <p>The model must be one some worker serves, or an alias (else 404), and one the request's API key may use (else
 * 403), as for {@code /v1/messages}.
 */
public final class CountTokensHandler implements Handler<RoutingContext> {

  static final int CHARS_PER_TOKEN = 4;

  private final GatewayServices services;
  private final RequestValidator validator;

  public CountTokensHandler(GatewayServices services, RequestValidator validator) {
    this.services = services;
    this.validator = validator;
  }

  @Override
  public void handle(RoutingContext ctx) {
    String requestId = RequestIds.of(ctx.request());
    ctx.put(RequestIds.HEADER, requestId);
    ctx.response().putHeader(RequestIds.HEADER_NAME, requestId);
    int tokens;
    String model;
    try {
      JsonObject chat = MessagesTranslator.toChat(RequestValidator.parseObject(ctx.body().buffer()), true);
      model = chat.getString("model");
      tokens = estimate(validator.validate(RequestKind.CHAT, chat).prompt(), chat);
    } catch (ApiError invalid) {
      ErrorResponder.send(ctx, invalid);
      return;
    }
    ApiKey key = ApiKeyAuth.of(ctx);
    ModelAliases aliases = services.options().getModels().aliases();
    ApiError notAllowed = GenerationHandler.notAllowed(aliases, key, model);
    if (notAllowed != null) {
      services.metrics().refused("model_not_allowed");
      ErrorResponder.send(ctx, notAllowed);
      return;
    }
    Set<String> served = services.registry().models();
    if (!served.contains(model) && !aliases.isAlias(model)) {
      Set<String> visible = served.stream().filter(key::allows).collect(Collectors.toCollection(TreeSet::new));
      ErrorResponder.send(ctx, new ApiError(404, "invalid_request_error", "model_not_found", "model",
          "The model '" + ClientText.shown(model) + "' does not exist or no worker serves it (request " + requestId
              + "). Models served by this cluster: " + (visible.isEmpty() ? "none" : String.join(", ", visible))
              + ". GET /v1/models lists them."));
      return;
    }
    ctx.response().putHeader("content-type", "application/json")
        .putHeader("x-switchboard-token-count", "estimate")
        .end(new JsonObject().put("input_tokens", tokens).toBuffer());
  }

  /** The estimate: the prompt text, tool calls and tools, {@link #CHARS_PER_TOKEN} characters a token. */
  static int estimate(String prompt, JsonObject chat) {
    long chars = prompt.length();
    // The prompt text leaves out the assistant's tool calls; the worker's template puts them in.
    for (Object message : chat.getJsonArray("messages")) {
      if (message instanceof JsonObject m && m.getValue("tool_calls") instanceof io.vertx.core.json.JsonArray calls) {
        chars += calls.toString().length();
      }
    }
    Object tools = chat.getValue("tools");
    if (tools != null) {
      chars += tools.toString().length();
    }
    Object toolChoice = chat.getValue("tool_choice");
    if (toolChoice != null) {
      chars += toolChoice.toString().length();
    }
    return (int) Math.min(Integer.MAX_VALUE, (chars + CHARS_PER_TOKEN - 1) / CHARS_PER_TOKEN);
  }
}
