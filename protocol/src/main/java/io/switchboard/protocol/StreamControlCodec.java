package io.switchboard.protocol;

import io.vertx.core.buffer.Buffer;

/**
 * A {@link StreamControl} in the binary plane format ({@link PlaneWire}), after the header (whose stream id is the
 * stream controlled): {@code byte flags} (1: cancel, 2: a reason follows), {@code int credits},
 * {@code [string reason]}.
 */
public final class StreamControlCodec extends PlaneMessageCodec<StreamControl> {

  public static final String NAME = "switchboard.plane.control";

  private static final int CANCEL = 1;
  private static final int REASON = 1 << 1;

  public StreamControlCodec() {
    super(NAME);
  }

  @Override
  public void encodeToWire(Buffer buffer, StreamControl control) {
    PlaneWireWriter out = PlaneWireWriter.begin(buffer, PlaneWire.CONTROL, control.streamId())
        .writeByte((control.cancel() ? CANCEL : 0) | (control.reason() != null ? REASON : 0))
        .writeInt(control.credits());
    if (control.reason() != null) {
      out.string(control.reason());
    }
    out.end();
  }

  @Override
  public StreamControl decodeFromWire(int pos, Buffer buffer) {
    PlaneWireReader in = PlaneWireReader.begin(buffer, pos, PlaneWire.CONTROL, "stream control");
    int flags = in.readByte();
    int credits = in.readInt();
    String reason = (flags & REASON) != 0 ? in.string() : null;
    return new StreamControl(in.streamId(), credits, (flags & CANCEL) != 0, reason);
  }
}
