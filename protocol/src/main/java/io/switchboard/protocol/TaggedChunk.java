package io.switchboard.protocol;

import java.util.Objects;

/**
 * A {@link StreamChunk} as it travels on the event bus between nodes: with the id of its stream, so the gateway's one
 * consumer hands it to the right stream. The binary counterpart of {@link StreamChunk#toJson(String)}.
 */
public record TaggedChunk(String streamId, StreamChunk chunk) implements PlaneMessage {

  public TaggedChunk {
    Objects.requireNonNull(streamId, "streamId");
    Objects.requireNonNull(chunk, "chunk");
  }
}
