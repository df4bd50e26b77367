package io.switchboard.protocol;

/**
 * A binary plane message this node cannot read: truncated, of a format version it does not know, or holding a value
 * out of range. Thrown by the plane's codecs when a receiver reads the message's body, so the receiver can refuse or
 * drop that one message and name its stream; never an error of the node itself.
 */
public final class PlaneWireException extends RuntimeException {

  private final String streamId;

  public PlaneWireException(String message, String streamId) {
    super(message);
    this.streamId = streamId;
  }

  public PlaneWireException(String message, String streamId, Throwable cause) {
    super(message, cause);
    this.streamId = streamId;
  }

  /** The message's stream id when its header could be read, else null. */
  public String streamId() {
    return streamId;
  }
}
