package io.switchboard.protocol;

/**
 * A message of the event-bus request plane that travels in the binary format ({@link PlaneWire}): it names the stream
 * it belongs to, which every message's header carries.
 */
interface PlaneMessage {

  String streamId();
}
