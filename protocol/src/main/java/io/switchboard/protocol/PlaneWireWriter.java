package io.switchboard.protocol;

import io.switchboard.runtime.json.JsonText;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;

/**
 * Writes one message of the binary plane format ({@link PlaneWire}) into the event bus's frame: the header on
 * {@link #begin}, the fields in between, the length on {@link #end}. Every number is big-endian and of fixed width.
 *
 * <p>A nullable field is written in a presence group ({@link PlaneWirePresence}): {@link #presenceByte} or
 * {@link #presenceInt} reserves the group's word where the codec's layout has it, and each {@code optional...} call
 * takes the group's next bit, sets it and writes the field when the field is there, and writes nothing when it is not.
 * The order of those calls is the bit assignment, so it is the wire format: new fields go after the last, none is
 * reordered.
 */
final class PlaneWireWriter extends PlaneWirePresence {

  private final int lengthAt;

  private PlaneWireWriter(Buffer buffer) {
    super(buffer);
    this.lengthAt = buffer.length();
  }

  /** Starts a message of {@code kind}: room for its length, then the format version, the kind and the stream id. */
  static PlaneWireWriter begin(Buffer buffer, PlaneMessageKind kind, String streamId) {
    PlaneWireWriter writer = new PlaneWireWriter(buffer);
    buffer.appendInt(0).appendByte((byte) PlaneWire.VERSION).appendByte(kind.code);
    return writer.string(streamId);
  }

  /** Fills in the length: the bytes after it, which a reader never reads past. */
  void end() {
    if (nestedGroupOpen()) {
      throw new IllegalStateException("a nested presence group was not ended");
    }
    buffer.setInt(lengthAt, buffer.length() - lengthAt - 4);
  }

  /** Reserves a byte of presence bits here (up to 8 optional fields), in a group nested in the open one if any. */
  PlaneWireWriter presenceByte() {
    openGroup(buffer.length(), 1);
    buffer.appendByte((byte) 0);
    return this;
  }

  /** Reserves an int of presence bits here (up to 32 optional fields), in a group nested in the open one if any. */
  PlaneWireWriter presenceInt() {
    openGroup(buffer.length(), 4);
    buffer.appendInt(0);
    return this;
  }

  /** Ends the nested presence group: the next optional field takes the enclosing group's next bit. */
  PlaneWireWriter endPresence() {
    closeNestedGroup();
    return this;
  }

  /**
   * Takes the next presence bit for a field the caller writes itself (a composite: sampling, usage, an error):
   * set when {@code present}. Returns {@code present}, so the caller writes the field when it is true.
   */
  boolean optional(boolean present) {
    return takeBit(present);
  }

  /** A boolean carried by the next presence bit alone, with no field behind it. */
  PlaneWireWriter flag(boolean value) {
    takeBit(value);
    return this;
  }

  /** Takes the next {@code count} presence bits unset: those of fields nested in a composite that is absent. */
  PlaneWireWriter skipOptional(int count) {
    skipBits(count);
    return this;
  }

  PlaneWireWriter writeByte(int value) {
    buffer.appendByte((byte) value);
    return this;
  }

  PlaneWireWriter writeInt(int value) {
    buffer.appendInt(value);
    return this;
  }

  PlaneWireWriter writeLong(long value) {
    buffer.appendLong(value);
    return this;
  }

  /** A nullable int behind the next presence bit. */
  PlaneWireWriter optionalInt(Integer value) {
    return takeBit(value != null) ? writeInt(value) : this;
  }

  /** A nullable long behind the next presence bit. */
  PlaneWireWriter optionalLong(Long value) {
    return takeBit(value != null) ? writeLong(value) : this;
  }

  PlaneWireWriter writeDouble(double value) {
    buffer.appendDouble(value);
    return this;
  }

  /**
   * A string: its UTF-8 byte count, then the bytes. UTF-8 has no form for a surrogate without its pair (Java's
   * encoder writes '?'), so a string holding one goes as UTF-16 code units after its char count negated: the text
   * arrives unchanged, as it does in JSON (where it is an escape). Such strings are rare; the check is one pass.
   */
  PlaneWireWriter string(String text) {
    if (!hasLoneSurrogate(text)) {
      byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
      buffer.appendInt(utf8.length).appendBytes(utf8);
      return this;
    }
    int length = text.length();
    buffer.appendInt(-length);
    for (int i = 0; i < length; i++) {
      buffer.appendUnsignedShort(text.charAt(i));
    }
    return this;
  }

  /** A nullable string behind the next presence bit. */
  PlaneWireWriter optionalString(String text) {
    return takeBit(text != null) ? string(text) : this;
  }

  /** Nested JSON of a client or a backend, as text (the project's writer, no Jackson): its byte count, the bytes. */
  PlaneWireWriter json(JsonObject object) {
    Buffer text = JsonText.buffer(object);
    buffer.appendInt(text.length()).appendBuffer(text);
    return this;
  }

  /** Nullable nested JSON behind the next presence bit. */
  PlaneWireWriter optionalJson(JsonObject object) {
    return takeBit(object != null) ? json(object) : this;
  }

  private static boolean hasLoneSurrogate(String text) {
    int length = text.length();
    for (int i = 0; i < length; i++) {
      char c = text.charAt(i);
      if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c) && i + 1 < length && Character.isLowSurrogate(text.charAt(i + 1))) {
          i++;
        } else {
          return true;
        }
      }
    }
    return false;
  }
}
