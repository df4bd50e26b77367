package io.switchboard.protocol;

import io.vertx.core.json.JsonObject;

/**
 * A {@link TaggedChunk} in the binary plane format ({@link PlaneWire}), after the header (whose stream id is the
 * chunk's):
 * <pre>
 * long seq, byte presence (bit i for the i-th field in [brackets] below), int tokens
 * [string text]              absent when empty
 * [string finishReason]
 * [usage] int promptTokens, int completionTokens, int cachedTokens
 * [error] byte errorPresence (a group of its own: bits 0-2 for the fields in [brackets], bit 3 retryable),
 *         int code (GenerateError.Code wire code), [string message] [string workerId] [string param]
 * [json extra]
 * </pre>
 * The bits are taken in the order the fields are written ({@link PlaneWireWriter}): a new nullable field goes last
 * in its group. A chunk without {@code extra} (every plain token) is written and read without any JSON work.
 */
public final class TaggedChunkCodec extends PlaneMessageCodec<TaggedChunk> {

  public TaggedChunkCodec() {
    super(PlaneMessageKind.CHUNK);
  }

  @Override
  void write(PlaneWireWriter out, TaggedChunk tagged) {
    StreamChunk chunk = tagged.chunk();
    out.writeLong(chunk.seq())
        .presenceByte()
        .writeInt(chunk.tokens())
        .optionalString(chunk.text().isEmpty() ? null : chunk.text())
        .optionalString(chunk.finishReason());
    Usage usage = chunk.usage();
    if (out.optional(usage != null)) {
      out.writeInt(usage.promptTokens()).writeInt(usage.completionTokens()).writeInt(usage.cachedTokens());
    }
    GenerateError error = chunk.error();
    if (out.optional(error != null)) {
      out.presenceByte()
          .writeInt(error.code().wireCode())
          .optionalString(error.message())
          .optionalString(error.workerId())
          .optionalString(error.param())
          .flag(error.retryable())
          .endPresence();
    }
    out.optionalJson(chunk.extra());
  }

  @Override
  TaggedChunk read(PlaneWireReader in) {
    long seq = in.readLong();
    in.presenceByte();
    int tokens = in.readInt();
    String text = in.optionalString(); // null reads as "" in a StreamChunk
    String finishReason = in.optionalString();
    Usage usage = in.optional() ? new Usage(in.readInt(), in.readInt(), in.readInt()) : null;
    GenerateError error = in.optional() ? error(in) : null;
    JsonObject extra = in.optionalJson();
    return new TaggedChunk(in.streamId(), new StreamChunk(seq, text, tokens, finishReason, usage, error, extra));
  }

  private static GenerateError error(PlaneWireReader in) {
    in.presenceByte();
    // An unknown code reads as ENGINE_FAILED, as in the JSON form.
    GenerateError.Code code = GenerateError.Code.fromWire(in.readInt());
    String message = in.optionalString();
    String workerId = in.optionalString();
    String param = in.optionalString();
    boolean retryable = in.flag();
    in.endPresence();
    return new GenerateError(code, message, retryable, workerId, param);
  }
}
