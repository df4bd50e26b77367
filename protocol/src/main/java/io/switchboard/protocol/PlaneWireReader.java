package io.switchboard.protocol;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * Reads one message of the binary plane format ({@link PlaneWire}) from the event bus's frame, never past the length
 * the message declares nor past the frame: whatever the bytes, it returns fields or throws
 * {@link PlaneWireException} naming the message's stream when its header was readable.
 */
final class PlaneWireReader {

  private final Buffer buffer;
  private final int end;
  private int pos;
  private String streamId;

  private PlaneWireReader(Buffer buffer, int pos, int end) {
    this.buffer = buffer;
    this.pos = pos;
    this.end = end;
  }

  /**
   * Reads the header of a message of {@code kind} at {@code pos}: its length, version, kind and stream id. The stream
   * id is read before the version is checked (every version starts the same way), so a message of an unknown
   * version can still be named.
   */
  static PlaneWireReader begin(Buffer buffer, int pos, byte kind, String what) {
    if (pos < 0 || pos + 4 > buffer.length()) {
      throw new PlaneWireException("truncated " + what + ": no length", null);
    }
    int length = buffer.getInt(pos);
    long declaredEnd = (long) pos + 4 + length;
    PlaneWireReader reader = new PlaneWireReader(buffer, pos + 4, (int) Math.min(declaredEnd, buffer.length()));
    if (length < 0 || reader.end - reader.pos < 2) {
      throw new PlaneWireException("truncated " + what + ": " + Math.max(0, reader.end - reader.pos)
          + " bytes, declared " + length, null);
    }
    int version = buffer.getByte(reader.pos++);
    int gotKind = buffer.getByte(reader.pos++);
    try {
      reader.streamId = reader.string();
    } catch (PlaneWireException unreadable) {
      reader.streamId = null;
    }
    if (version != PlaneWire.VERSION) {
      throw new PlaneWireException(what + " in plane wire format version " + version + ", which this node does not "
          + "read (it reads version " + PlaneWire.VERSION + ")", reader.streamId);
    }
    if (gotKind != kind) {
      throw new PlaneWireException("expected a " + what + " (kind " + kind + "), got kind " + gotKind,
          reader.streamId);
    }
    if (declaredEnd > buffer.length()) {
      throw new PlaneWireException("truncated " + what + ": " + (buffer.length() - pos - 4) + " bytes of the "
          + length + " declared", reader.streamId);
    }
    if (reader.streamId == null) {
      throw new PlaneWireException("truncated " + what + ": no stream id", null);
    }
    return reader;
  }

  String streamId() {
    return streamId;
  }

  int readByte() {
    need(1);
    return buffer.getByte(pos++);
  }

  int readInt() {
    need(4);
    int value = buffer.getInt(pos);
    pos += 4;
    return value;
  }

  long readLong() {
    need(8);
    long value = buffer.getLong(pos);
    pos += 8;
    return value;
  }

  double readDouble() {
    need(8);
    double value = buffer.getDouble(pos);
    pos += 8;
    return value;
  }

  /** A string as {@link PlaneWireWriter#string} writes it. */
  String string() {
    int length = readInt();
    if (length >= 0) {
      need(length);
      String text = buffer.getString(pos, pos + length);
      pos += length;
      return text;
    }
    long chars = -(long) length;
    need(2 * chars);
    char[] text = new char[(int) chars];
    for (int i = 0; i < text.length; i++) {
      text[i] = (char) buffer.getUnsignedShort(pos);
      pos += 2;
    }
    return new String(text);
  }

  /** Nested JSON, read by Vert.x's codec (only the nested part is JSON). */
  JsonObject json() {
    int length = readInt();
    need(length);
    try {
      JsonObject object = new JsonObject(buffer.slice(pos, pos + length));
      pos += length;
      return object;
    } catch (RuntimeException malformed) {
      throw unreadable("nested JSON is malformed: " + malformed.getMessage(), malformed);
    }
  }

  /** A value out of range: the message is not one this node can read. */
  PlaneWireException unreadable(String why) {
    return new PlaneWireException(why, streamId);
  }

  private PlaneWireException unreadable(String why, Throwable cause) {
    return new PlaneWireException(why, streamId, cause);
  }

  private void need(long bytes) {
    if (bytes < 0 || bytes > end - pos) {
      throw unreadable("truncated message: " + bytes + " bytes needed at " + pos + ", " + (end - pos) + " left");
    }
  }
}
