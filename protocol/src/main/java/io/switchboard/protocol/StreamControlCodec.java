package io.switchboard.protocol;

/**
 * A {@link StreamControl} in the binary plane format ({@link PlaneWire}), after the header (whose stream id is the
 * stream controlled): {@code byte presence} (bit 0: cancel, bit 1: a reason follows), {@code int credits},
 * {@code [string reason]}. The bits are taken in the order the fields are written ({@link PlaneWireWriter}).
 */
public final class StreamControlCodec extends PlaneMessageCodec<StreamControl> {

  public StreamControlCodec() {
    super(PlaneMessageKind.CONTROL);
  }

  @Override
  void write(PlaneWireWriter out, StreamControl control) {
    out.presenceByte().flag(control.cancel()).writeInt(control.credits()).optionalString(control.reason());
  }

  @Override
  StreamControl read(PlaneWireReader in) {
    in.presenceByte();
    boolean cancel = in.flag();
    // Arguments are evaluated left to right: credits, then the reason, as they were written.
    return new StreamControl(in.streamId(), in.readInt(), cancel, in.optionalString());
  }
}
