package io.switchboard.protocol;

import io.vertx.core.json.JsonObject;

/**
 * One message on a generation stream, worker to gateway. Either a text delta, the final chunk (with a finish
 * reason and usage), or an error (then {@code error} is set and nothing follows).
 *
 * @param seq          position in the stream, from 0, so the gateway can detect a gap
 * @param text         the text delta (may be empty on the final chunk)
 * @param tokens       how many completion tokens this delta holds
 * @param finishReason "stop" or "length" on the final chunk, else null
 * @param usage        token counts, on the final chunk
 * @param error        set when the stream failed
 * @param extra        what a backend sent beside the text, passed through to the client (null when nothing):
 *                     {@code delta} (chat delta fields such as tool_calls or reasoning_content), {@code logprobs}
 *                     (the choice's logprobs), {@code result} (a whole non-generative answer, e.g. embeddings)
 */
public record StreamChunk(long seq, String text, int tokens, String finishReason, Usage usage, GenerateError error,
                          JsonObject extra) {

  public StreamChunk {
    text = text == null ? "" : text;
    extra = extra == null || extra.isEmpty() ? null : extra;
  }

  public StreamChunk(long seq, String text, int tokens, String finishReason, Usage usage, GenerateError error) {
    this(seq, text, tokens, finishReason, usage, error, null);
  }

  public static StreamChunk delta(long seq, String text, int tokens) {
    return delta(seq, text, tokens, null);
  }

  public static StreamChunk delta(long seq, String text, int tokens, JsonObject extra) {
    return new StreamChunk(seq, text, tokens, null, null, null, extra);
  }

  public static StreamChunk last(long seq, String text, int tokens, String finishReason, Usage usage) {
    return last(seq, text, tokens, finishReason, usage, null);
  }

  public static StreamChunk last(long seq, String text, int tokens, String finishReason, Usage usage,
                                 JsonObject extra) {
    return new StreamChunk(seq, text, tokens, finishReason, usage, null, extra);
  }

  public static StreamChunk failure(long seq, GenerateError error) {
    return new StreamChunk(seq, "", 0, null, null, error, null);
  }

  public boolean isLast() {
    return finishReason != null || error != null;
  }

  /** The wire form, tagged with the stream it belongs to. */
  public JsonObject toJson(String streamId) {
    JsonObject json = new JsonObject().put(StreamControl.STREAM_ID, streamId).put("seq", seq);
    if (!text.isEmpty()) {
      json.put("text", text);
    }
    if (tokens != 0) {
      json.put("tokens", tokens);
    }
    if (finishReason != null) {
      json.put("finishReason", finishReason);
    }
    if (usage != null) {
      json.put("usage", usage.toJson());
    }
    if (error != null) {
      json.put("error", error.toJson());
    }
    if (extra != null) {
      json.put("extra", extra);
    }
    return json;
  }

  public static StreamChunk fromJson(JsonObject json) {
    JsonObject error = json.getJsonObject("error");
    return new StreamChunk(
        json.getLong("seq", 0L),
        json.getString("text", ""),
        json.getInteger("tokens", 0),
        json.getString("finishReason"),
        Usage.fromJson(json.getJsonObject("usage")),
        error == null ? null : GenerateError.fromJson(error),
        json.getJsonObject("extra"));
  }
}
