package io.switchboard.gateway.dialect.openai;

import io.switchboard.gateway.api.CompletionRequest;
import io.switchboard.gateway.exchange.ChoiceExtras;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.Usage;
import io.switchboard.runtime.json.JsonText;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** Builds response bodies and stream chunks exactly as OpenAI's API shapes them, for one request. */
final class OpenAiFormat {

  private final RequestKind kind;
  private final String id;
  /** The model the answer names: the one that served it ({@code AnswerWriter.servedBy}). */
  private String model;
  private final long created;
  private final boolean includeUsage;
  /** What every plain text chunk of this answer begins with, up to its text; built on first use. */
  private String textChunkHead;

  OpenAiFormat(CompletionRequest request, String requestId) {
    this.kind = request.kind();
    this.id = (kind == RequestKind.CHAT ? "chatcmpl-" : "cmpl-") + requestId;
    this.model = request.model();
    this.created = System.currentTimeMillis() / 1000;
    this.includeUsage = request.includeUsage();
  }

  /** Names {@code model} in what is built from now on: the model that served the answer. */
  void servedBy(String model) {
    this.model = model;
    textChunkHead = null;
  }

  /** The first chunk of a chat stream announces the assistant role, as OpenAI's does. */
  JsonObject roleChunk() {
    return chunk(new JsonObject().put("role", "assistant").put("content", ""), null);
  }

  JsonObject textChunk(String text) {
    return deltaChunk(text, null);
  }

  /** A text delta with what the backend sent beside it (tool-call deltas, reasoning, logprobs). */
  JsonObject deltaChunk(String text, JsonObject extra) {
    JsonObject chunk;
    if (kind == RequestKind.CHAT) {
      JsonObject delta = new JsonObject();
      if (!text.isEmpty() || extra == null || extra.getJsonObject("delta") == null) {
        delta.put("content", text);
      }
      if (extra != null && extra.getJsonObject("delta") != null) {
        delta.mergeIn(extra.getJsonObject("delta"));
      }
      chunk = chunk(delta, null);
    } else {
      chunk = chunk(text, null);
    }
    if (extra != null && extra.getValue("logprobs") != null) {
      chunk.getJsonArray("choices").getJsonObject(0).put("logprobs", extra.getValue("logprobs"));
    }
    return chunk;
  }

  /**
   * Appends a plain text chunk's JSON (no extras) with the bytes {@code textChunk(text).toBuffer()} has: the part
   * before the text is the same for every chunk of the answer and written once. A stream's chunks are mostly these;
   * building and encoding a tree for each costs more than the rest of the chunk's relay
   * (load-tests/bin/chunk-write-bench re-checks it; OpenAiFormatTest holds the bytes to the tree's).
   */
  StringBuilder appendTextChunk(StringBuilder out, String text) {
    String head = textChunkHead;
    if (head == null) {
      StringBuilder h = new StringBuilder(160 + id.length() + model.length());
      JsonText.string(h.append("{\"id\":"), id).append(kind == RequestKind.CHAT
          ? ",\"object\":\"chat.completion.chunk\"" : ",\"object\":\"text_completion\"")
          .append(",\"created\":").append(created);
      JsonText.string(h.append(",\"model\":"), model).append(",\"system_fingerprint\":null,\"choices\":[{\"index\":0,")
          .append(kind == RequestKind.CHAT ? "\"delta\":{\"content\":" : "\"text\":");
      head = textChunkHead = h.toString();
    }
    JsonText.string(out.append(head), text);
    return out.append(kind == RequestKind.CHAT ? "}," : ",").append("\"logprobs\":null,\"finish_reason\":null}]")
        .append(includeUsage ? ",\"usage\":null}" : "}");
  }

  JsonObject finishChunk(String finishReason) {
    if (kind == RequestKind.CHAT) {
      return chunk(new JsonObject(), finishReason);
    }
    return chunk("", finishReason);
  }

  /** The extra last chunk of {@code stream_options.include_usage}: no choices, only usage. */
  JsonObject usageChunk(Usage usage) {
    return base(kind == RequestKind.CHAT ? "chat.completion.chunk" : "text_completion")
        .put("choices", new JsonArray())
        .put("usage", usage.toOpenAi());
  }

  JsonObject completeResponse(String text, String finishReason, Usage usage) {
    return completeResponse(text, finishReason, usage, new ChoiceExtras());
  }

  /** The whole answer, with what the backend streamed beside the text assembled into the choice. */
  JsonObject completeResponse(String text, String finishReason, Usage usage, ChoiceExtras extras) {
    JsonObject choice = new JsonObject().put("index", 0);
    if (kind == RequestKind.CHAT) {
      JsonObject message = new JsonObject().put("role", "assistant")
          .put("content", text.isEmpty() && extras.hasToolCalls() ? null : text).putNull("refusal");
      extras.completeMessage(message);
      choice.put("message", message);
    } else {
      choice.put("text", text);
    }
    choice.put("logprobs", extras.logprobs()).put("finish_reason", finishReason);
    return base(kind == RequestKind.CHAT ? "chat.completion" : "text_completion")
        .put("choices", new JsonArray().add(choice))
        .put("usage", usage.toOpenAi());
  }

  /**
   * The whole answer's bytes, as {@code completeResponse(...).toBuffer()} encodes it. An answer of plain text
   * (the usual) is written straight out, without building and encoding its JSON tree
   * (load-tests/bin/chunk-write-bench). One with anything beside the text goes through the tree.
   */
  Buffer completeResponseBody(String text, String finishReason, Usage usage, ChoiceExtras extras) {
    if (!extras.isEmpty()) {
      return completeResponse(text, finishReason, usage, extras).toBuffer();
    }
    StringBuilder json = new StringBuilder(220 + id.length() + model.length() + text.length());
    JsonText.string(json.append("{\"id\":"), id)
        .append(kind == RequestKind.CHAT ? ",\"object\":\"chat.completion\"" : ",\"object\":\"text_completion\"")
        .append(",\"created\":").append(created);
    JsonText.string(json.append(",\"model\":"), model)
        .append(",\"system_fingerprint\":null,\"choices\":[{\"index\":0,");
    if (kind == RequestKind.CHAT) {
      JsonText.string(json.append("\"message\":{\"role\":\"assistant\",\"content\":"), text)
          .append(",\"refusal\":null}");
    } else {
      JsonText.string(json.append("\"text\":"), text);
    }
    json.append(",\"logprobs\":null,\"finish_reason\":");
    if (finishReason == null) {
      json.append("null");
    } else {
      JsonText.string(json, finishReason);
    }
    json.append("}],\"usage\":{\"prompt_tokens\":").append(usage.promptTokens())
        .append(",\"completion_tokens\":").append(usage.completionTokens())
        .append(",\"total_tokens\":").append(usage.totalTokens());
    if (usage.cachedTokens() > 0) {
      json.append(",\"prompt_tokens_details\":{\"cached_tokens\":").append(usage.cachedTokens()).append('}');
    }
    return Buffer.buffer(json.append("}}").toString());
  }

  /**
   * An embeddings answer as the backend gave it ({@code data} list), under the client's model name and with
   * the gateway's usage, in OpenAI's shape.
   */
  JsonObject embeddingResponse(JsonObject result, Usage usage) {
    JsonArray data = result == null ? new JsonArray() : result.getJsonArray("data", new JsonArray());
    return new JsonObject()
        .put("object", "list")
        .put("data", data)
        .put("model", model)
        .put("usage", new JsonObject().put("prompt_tokens", usage.promptTokens())
            .put("total_tokens", usage.promptTokens()));
  }

  private JsonObject chunk(Object deltaOrText, String finishReason) {
    JsonObject choice = new JsonObject().put("index", 0);
    if (kind == RequestKind.CHAT) {
      choice.put("delta", deltaOrText);
    } else {
      choice.put("text", deltaOrText);
    }
    choice.putNull("logprobs").put("finish_reason", finishReason);
    JsonObject chunk = base(kind == RequestKind.CHAT ? "chat.completion.chunk" : "text_completion")
        .put("choices", new JsonArray().add(choice));
    if (includeUsage) {
      chunk.putNull("usage");
    }
    return chunk;
  }

  private JsonObject base(String object) {
    return new JsonObject()
        .put("id", id)
        .put("object", object)
        .put("created", created)
        .put("model", model)
        .putNull("system_fingerprint");
  }
}
