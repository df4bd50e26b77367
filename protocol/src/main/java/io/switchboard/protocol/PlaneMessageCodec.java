package io.switchboard.protocol;

import io.vertx.core.eventbus.MessageCodec;

/**
 * What every codec of the binary plane format shares: its messages are immutable, so a message delivered on the same
 * node is passed on as it is, and each codec is registered under its own name (not one of Vert.x's system codecs).
 * A subclass writes and reads its one kind of message ({@link PlaneWireWriter}, {@link PlaneWireReader}).
 */
abstract class PlaneMessageCodec<T> implements MessageCodec<T, T> {

  private final String name;

  PlaneMessageCodec(String name) {
    this.name = name;
  }

  @Override
  public final T transform(T message) {
    return message;
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final byte systemCodecID() {
    return -1;
  }
}
