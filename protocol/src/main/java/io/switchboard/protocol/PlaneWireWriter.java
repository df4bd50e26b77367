package io.switchboard.protocol;

import io.switchboard.runtime.json.JsonText;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;

/**
 * Writes one message of the binary plane format ({@link PlaneWire}) into the event bus's frame: the header on
 * {@link #begin}, the fields in between, the length on {@link #end}. Every number is big-endian and of fixed width.
 */
final class PlaneWireWriter {

  private final Buffer buffer;
  private final int lengthAt;

  private PlaneWireWriter(Buffer buffer) {
    this.buffer = buffer;
    this.lengthAt = buffer.length();
  }

  /** Starts a message of {@code kind}: room for its length, then the format version, the kind and the stream id. */
  static PlaneWireWriter begin(Buffer buffer, byte kind, String streamId) {
    PlaneWireWriter writer = new PlaneWireWriter(buffer);
    buffer.appendInt(0).appendByte((byte) PlaneWire.VERSION).appendByte(kind);
    return writer.string(streamId);
  }

  /** Fills in the length: the bytes after it, which a reader never reads past. */
  void end() {
    buffer.setInt(lengthAt, buffer.length() - lengthAt - 4);
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

  /** Nested JSON of a client or a backend, as text (the project's writer, no Jackson): its byte count, the bytes. */
  PlaneWireWriter json(JsonObject object) {
    Buffer text = JsonText.buffer(object);
    buffer.appendInt(text.length()).appendBuffer(text);
    return this;
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
