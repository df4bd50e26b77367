package io.switchboard.protocol;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * A {@link TaggedChunk} in the binary plane format ({@link PlaneWire}), after the header (whose stream id is the
 * chunk's):
 * <pre>
 * long seq, byte flags (the bits below), int tokens
 * [string text]              absent when empty
 * [string finishReason]
 * [usage] int promptTokens, int completionTokens, int cachedTokens
 * [error] byte errorFlags, int code (GenerateError.Code wire code), [string message] [string workerId] [string param]
 * [json extra]
 * </pre>
 * A chunk without {@code extra} (every plain token) is written and read without any JSON work.
 */
public final class TaggedChunkCodec extends PlaneMessageCodec<TaggedChunk> {

  public static final String NAME = "switchboard.plane.chunk";

  private static final int TEXT = 1;
  private static final int FINISH_REASON = 1 << 1;
  private static final int USAGE = 1 << 2;
  private static final int ERROR = 1 << 3;
  private static final int EXTRA = 1 << 4;

  private static final int ERROR_MESSAGE = 1;
  private static final int ERROR_WORKER = 1 << 1;
  private static final int ERROR_PARAM = 1 << 2;
  private static final int ERROR_RETRYABLE = 1 << 3;

  public TaggedChunkCodec() {
    super(NAME);
  }

  @Override
  public void encodeToWire(Buffer buffer, TaggedChunk tagged) {
    StreamChunk chunk = tagged.chunk();
    int flags = (chunk.text().isEmpty() ? 0 : TEXT)
        | (chunk.finishReason() != null ? FINISH_REASON : 0)
        | (chunk.usage() != null ? USAGE : 0)
        | (chunk.error() != null ? ERROR : 0)
        | (chunk.extra() != null ? EXTRA : 0);
    PlaneWireWriter out = PlaneWireWriter.begin(buffer, PlaneWire.CHUNK, tagged.streamId())
        .writeLong(chunk.seq())
        .writeByte(flags)
        .writeInt(chunk.tokens());
    if (!chunk.text().isEmpty()) {
      out.string(chunk.text());
    }
    if (chunk.finishReason() != null) {
      out.string(chunk.finishReason());
    }
    if (chunk.usage() != null) {
      Usage usage = chunk.usage();
      out.writeInt(usage.promptTokens()).writeInt(usage.completionTokens()).writeInt(usage.cachedTokens());
    }
    if (chunk.error() != null) {
      GenerateError error = chunk.error();
      out.writeByte((error.message() != null ? ERROR_MESSAGE : 0) | (error.workerId() != null ? ERROR_WORKER : 0)
              | (error.param() != null ? ERROR_PARAM : 0) | (error.retryable() ? ERROR_RETRYABLE : 0))
          .writeInt(error.code().wireCode());
      if (error.message() != null) {
        out.string(error.message());
      }
      if (error.workerId() != null) {
        out.string(error.workerId());
      }
      if (error.param() != null) {
        out.string(error.param());
      }
    }
    if (chunk.extra() != null) {
      out.json(chunk.extra());
    }
    out.end();
  }

  @Override
  public TaggedChunk decodeFromWire(int pos, Buffer buffer) {
    PlaneWireReader in = PlaneWireReader.begin(buffer, pos, PlaneWire.CHUNK, "stream chunk");
    long seq = in.readLong();
    int flags = in.readByte();
    int tokens = in.readInt();
    String text = (flags & TEXT) != 0 ? in.string() : "";
    String finishReason = (flags & FINISH_REASON) != 0 ? in.string() : null;
    Usage usage = (flags & USAGE) != 0 ? new Usage(in.readInt(), in.readInt(), in.readInt()) : null;
    GenerateError error = null;
    if ((flags & ERROR) != 0) {
      int errorFlags = in.readByte();
      // An unknown code reads as ENGINE_FAILED, as in the JSON form.
      GenerateError.Code code = GenerateError.Code.fromWire(in.readInt());
      String message = (errorFlags & ERROR_MESSAGE) != 0 ? in.string() : null;
      String workerId = (errorFlags & ERROR_WORKER) != 0 ? in.string() : null;
      String param = (errorFlags & ERROR_PARAM) != 0 ? in.string() : null;
      error = new GenerateError(code, message, (errorFlags & ERROR_RETRYABLE) != 0, workerId, param);
    }
    JsonObject extra = (flags & EXTRA) != 0 ? in.json() : null;
    return new TaggedChunk(in.streamId(), new StreamChunk(seq, text, tokens, finishReason, usage, error, extra));
  }
}
