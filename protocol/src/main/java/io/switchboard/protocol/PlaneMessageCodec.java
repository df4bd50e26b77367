package io.switchboard.protocol;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;

/**
 * What every codec of the binary plane format shares: the header every message begins with (its length, the format
 * version, the codec's {@link PlaneMessageKind} and the message's stream id; {@link PlaneWire}) is written and checked
 * here, and the length filled in once the fields are written, so a codec writes and reads only its own fields
 * ({@link #write}, {@link #read}). Its messages are immutable, so a message delivered on the same node is passed on as
 * it is, and each codec is registered under its kind's name (not one of Vert.x's system codecs).
 */
abstract class PlaneMessageCodec<T extends PlaneMessage> implements MessageCodec<T, T> {

  private final PlaneMessageKind kind;

  PlaneMessageCodec(PlaneMessageKind kind) {
    this.kind = kind;
  }

  /** Writes the fields of {@code message} after its header. */
  abstract void write(PlaneWireWriter out, T message);

  /** Reads the fields after the header, which {@code in} has checked. */
  abstract T read(PlaneWireReader in);

  @Override
  public final void encodeToWire(Buffer buffer, T message) {
    PlaneWireWriter out = PlaneWireWriter.begin(buffer, kind, message.streamId());
    write(out, message);
    out.end();
  }

  @Override
  public final T decodeFromWire(int pos, Buffer buffer) {
    return read(PlaneWireReader.begin(buffer, pos, kind));
  }

  @Override
  public final T transform(T message) {
    return message;
  }

  @Override
  public final String name() {
    return kind.codecName;
  }

  @Override
  public final byte systemCodecID() {
    return -1;
  }
}
