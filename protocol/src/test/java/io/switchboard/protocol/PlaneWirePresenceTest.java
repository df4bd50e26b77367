package io.switchboard.protocol;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Presence groups as codecs use them: bit i is the i-th optional call, in a byte or an int group, nested one deep; the
 * reader takes the bits back in the same order. A codec that takes more bits than its group has, or nests wrongly,
 * fails at once instead of writing bits another node would read as other fields.
 */
class PlaneWirePresenceTest {

  /** Where a message's fields start: after the length, version, kind and the one-character stream id. */
  private static final int FIELDS_AT = 4 + 1 + 1 + 4 + 1;

  private final Buffer buffer = Buffer.buffer();
  private final PlaneWireWriter out = PlaneWireWriter.begin(buffer, PlaneMessageKind.CONTROL, "s");

  private PlaneWireReader reader() {
    out.end();
    return PlaneWireReader.begin(buffer, 0, PlaneMessageKind.CONTROL);
  }

  @Test
  void anIntGroupGivesEachOptionalCallTheNextBitInOrder() {
    out.presenceInt();
    for (int i = 0; i < 32; i++) {
      out.optionalString(i % 3 == 0 ? "field " + i : null);
    }
    int expected = 0;
    for (int i = 0; i < 32; i += 3) {
      expected |= 1 << i;
    }
    assertThat(buffer.getInt(FIELDS_AT)).isEqualTo(expected);

    PlaneWireReader in = reader();
    in.presenceInt();
    for (int i = 0; i < 32; i++) {
      assertThat(in.optionalString()).isEqualTo(i % 3 == 0 ? "field " + i : null);
    }
  }

  @Test
  void flagsSkippedBitsAndCompositesTakeBitsToo() {
    out.presenceByte().flag(true).skipOptional(2).optionalInt(null).optionalLong(7L);
    if (out.optional(true)) {
      out.writeInt(42);
    }
    assertThat(buffer.getByte(FIELDS_AT)).isEqualTo((byte) 0b110001);

    PlaneWireReader in = reader();
    in.presenceByte();
    assertThat(in.flag()).isTrue();
    in.skipOptional(2);
    assertThat(in.optionalInt()).isNull();
    assertThat(in.optionalLong()).isEqualTo(7L);
    assertThat(in.optional()).isTrue();
    assertThat(in.readInt()).isEqualTo(42);
  }

  @Test
  void aNestedGroupHasBitsOfItsOwnAndTheEnclosingOneGoesOnAfterIt() {
    out.presenceByte().optionalString("a");
    out.presenceByte().optionalString(null).flag(true).endPresence();
    out.optionalString("b");
    assertThat(buffer.getByte(FIELDS_AT)).as("enclosing group: bits 0 and 1").isEqualTo((byte) 0b11);
    assertThat(buffer.getByte(FIELDS_AT + 1 + 4 + 1)).as("nested group, after \"a\": bit 1").isEqualTo((byte) 0b10);

    PlaneWireReader in = reader();
    in.presenceByte();
    assertThat(in.optionalString()).isEqualTo("a");
    in.presenceByte();
    assertThat(in.optionalString()).isNull();
    assertThat(in.flag()).isTrue();
    in.endPresence();
    assertThat(in.optionalString()).isEqualTo("b");
  }

  @Test
  void aByteGroupHasEightBits() {
    out.presenceByte().skipOptional(8);
    assertThatThrownBy(() -> out.optionalString("ninth")).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("all its 8 bits");
  }

  @Test
  void anOptionalFieldNeedsAGroup() {
    assertThatThrownBy(() -> out.optionalString("x")).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no presence group");
  }

  @Test
  void groupsNestOneDeepAndANestedGroupMustEnd() {
    out.presenceByte().presenceByte();
    assertThatThrownBy(out::presenceByte).isInstanceOf(IllegalStateException.class).hasMessageContaining("one deep");
    assertThatThrownBy(out::end).isInstanceOf(IllegalStateException.class).hasMessageContaining("not ended");
    out.endPresence();
    assertThatThrownBy(out::endPresence).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no nested presence group");
  }
}
