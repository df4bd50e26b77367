package io.switchboard.protocol;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * Reads one message of the binary plane format ({@link PlaneWire}) from the event bus's frame, never past the length
 * the message declares nor past the frame: whatever the bytes, it returns fields or throws
 * {@link PlaneWireException} naming the message's stream when its header was readable.
 *
 * <p>Nullable fields are read as {@link PlaneWireWriter} wrote them, in presence groups ({@link PlaneWirePresence}):
 * {@link #presenceByte} or {@link #presenceInt} where the codec's layout has the group's word, then one
 * {@code optional...} call a field, in the order they were written, each taking the group's next bit and reading the
 * field only when the bit is set. Bits past the ones a codec takes are ignored.
 */
final class PlaneWireReader extends PlaneWirePresence {

  private final int end;
  private int pos;
  private String streamId;

  private PlaneWireReader(Buffer buffer, int pos, int end) {
    super(buffer);
    this.pos = pos;
    this.end = end;
  }

  /**
   * Reads the header of a message of {@code kind} at {@code pos}: its length, version, kind and stream id. The stream
   * id is read before the version is checked (every version starts the same way), so a message of an unknown
   * version can still be named.
   */
  static PlaneWireReader begin(Buffer buffer, int pos, PlaneMessageKind kind) {
    String what = kind.what;
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
    if (gotKind != kind.code) {
      throw new PlaneWireException("expected a " + what + " (kind " + kind.code + "), got kind " + gotKind,
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

  /** Opens a presence group whose word is the byte here, nested in the open group if there is one. */
  void presenceByte() {
    openGroup(advance(1), 1);
  }

  /** Opens a presence group whose word is the int here, nested in the open group if there is one. */
  void presenceInt() {
    openGroup(advance(4), 4);
  }

  /** Ends the nested presence group: the next optional field takes the enclosing group's next bit. */
  void endPresence() {
    closeNestedGroup();
  }

  /** Takes the next presence bit, of a field the caller reads itself: whether the field follows. */
  boolean optional() {
    return takeBit();
  }

  /** A boolean carried by the next presence bit alone. */
  boolean flag() {
    return takeBit();
  }

  /** Passes over the next {@code count} presence bits: those of fields nested in a composite that is absent. */
  void skipOptional(int count) {
    skipBits(count);
  }

  int readByte() {
    return buffer.getByte(advance(1));
  }

  int readInt() {
    return buffer.getInt(advance(4));
  }

  /** A nullable int: read when the next presence bit is set, else null. */
  Integer optionalInt() {
    return takeBit() ? readInt() : null;
  }

  long readLong() {
    return buffer.getLong(advance(8));
  }

  /** A nullable long: read when the next presence bit is set, else null. */
  Long optionalLong() {
    return takeBit() ? readLong() : null;
  }

  double readDouble() {
    return buffer.getDouble(advance(8));
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

  /** A nullable string: read when the next presence bit is set, else null. */
  String optionalString() {
    return takeBit() ? string() : null;
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

  /** Nullable nested JSON: read when the next presence bit is set, else null. */
  JsonObject optionalJson() {
    return takeBit() ? json() : null;
  }

  /** A value out of range: the message is not one this node can read. */
  PlaneWireException unreadable(String why) {
    return new PlaneWireException(why, streamId);
  }

  private PlaneWireException unreadable(String why, Throwable cause) {
    return new PlaneWireException(why, streamId, cause);
  }

  /** Moves past {@code bytes} bytes that must be there; returns where they start. */
  private int advance(int bytes) {
    need(bytes);
    int at = pos;
    pos += bytes;
    return at;
  }

  private void need(long bytes) {
    if (bytes < 0 || bytes > end - pos) {
      throw unreadable("truncated message: " + bytes + " bytes needed at " + pos + ", " + (end - pos) + " left");
    }
  }
}
