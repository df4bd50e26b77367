package io.switchboard.protocol;

/**
 * The kinds of message of the binary plane format ({@link PlaneWire}): the byte each message's header carries, the
 * name its codec is registered under on the event bus, and what it is called in the error of one that cannot be read.
 * Nodes of every version agree on the bytes and the names, so neither ever changes.
 */
enum PlaneMessageKind {

  REQUEST(1, "switchboard.plane.request", "generate request"),
  CHUNK(2, "switchboard.plane.chunk", "stream chunk"),
  CONTROL(3, "switchboard.plane.control", "stream control");

  final byte code;
  final String codecName;
  final String what;

  PlaneMessageKind(int code, String codecName, String what) {
    this.code = (byte) code;
    this.codecName = codecName;
    this.what = what;
  }
}
