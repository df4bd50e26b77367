package io.switchboard.protocol;

import io.vertx.core.buffer.Buffer;

/**
 * The presence groups of one plane message ({@link PlaneWire}), as {@link PlaneWireWriter} writes them and
 * {@link PlaneWireReader} reads them, so both sides number the bits the same way. A group is a byte or an int in the
 * message; bit i of it belongs to the group's i-th optional field, counted in the order the codec writes (and reads)
 * its fields: set when the field follows, unset when it is absent. A codec therefore assigns no bit by hand: the order
 * of its optional calls is the bit assignment. A new optional field is appended after a group's last one; calls are
 * never reordered or removed, or the bits of nodes of another version would mean other fields.
 *
 * <p>A group may hold one group nested in it (a chunk's error has its own byte inside the chunk's); while the nested
 * one is open, optional fields take its bits, and once it ends the enclosing group takes up its next bit again.
 * Taking a bit past a group's width, or with no group open, is a codec's mistake and throws
 * {@link IllegalStateException}.
 *
 * <p>It is the writer's and reader's base class rather than an object of theirs so that a message, written or read
 * once per token chunk, costs no second allocation. The bits live in the buffer itself: the writer sets them where the
 * group's word was reserved, the reader tests them there.
 */
abstract sealed class PlaneWirePresence permits PlaneWireWriter, PlaneWireReader {

  private static final int NO_GROUP = -1;

  final Buffer buffer;

  /** The innermost open group: where its word is, how many bits it has, which one the next optional field takes. */
  private int groupAt = NO_GROUP, groupBits, groupNext;
  /** The same of the group that one is nested in, while one is. */
  private int outerAt = NO_GROUP, outerBits, outerNext;

  PlaneWirePresence(Buffer buffer) {
    this.buffer = buffer;
  }

  /** Opens a group whose word, {@code bytes} wide (1 or 4), is at {@code at}: nested in the open one, if any. */
  final void openGroup(int at, int bytes) {
    if (outerAt != NO_GROUP) {
      throw new IllegalStateException("presence groups nest one deep");
    }
    outerAt = groupAt;
    outerBits = groupBits;
    outerNext = groupNext;
    groupAt = at;
    groupBits = bytes * Byte.SIZE;
    groupNext = 0;
  }

  /** Ends the nested group: the enclosing one takes up its next bit again. */
  final void closeNestedGroup() {
    if (outerAt == NO_GROUP) {
      throw new IllegalStateException("no nested presence group is open");
    }
    groupAt = outerAt;
    groupBits = outerBits;
    groupNext = outerNext;
    outerAt = NO_GROUP;
  }

  /** Whether a nested group was opened and not ended. */
  final boolean nestedGroupOpen() {
    return outerAt != NO_GROUP;
  }

  /** Takes the open group's next bit: whether it is set in the buffer. */
  final boolean takeBit() {
    int bit = nextBit();
    return ((groupBits == Byte.SIZE ? buffer.getByte(groupAt) : buffer.getInt(groupAt)) & bit) != 0;
  }

  /** Takes the open group's next bit and sets it in the buffer when {@code set}; returns {@code set}. */
  final boolean takeBit(boolean set) {
    int bit = nextBit();
    if (set && groupBits == Byte.SIZE) {
      buffer.setByte(groupAt, (byte) (buffer.getByte(groupAt) | bit));
    } else if (set) {
      buffer.setInt(groupAt, buffer.getInt(groupAt) | bit);
    }
    return set;
  }

  /** Takes the open group's next {@code count} bits without looking at them (they stay unset when written). */
  final void skipBits(int count) {
    for (int i = 0; i < count; i++) {
      nextBit();
    }
  }

  private int nextBit() {
    if (groupNext >= groupBits) {
      throw new IllegalStateException(groupAt == NO_GROUP ? "no presence group is open"
          : "presence group full: all its " + groupBits + " bits are taken");
    }
    return 1 << groupNext++;
  }
}
