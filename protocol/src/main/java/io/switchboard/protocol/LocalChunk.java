package io.switchboard.protocol;

/**
 * A stream chunk handed to a gateway on the same node, with the stream it belongs to (the JSON form carries the
 * stream id inside: {@link StreamChunk#toJson(String)}). Only ever sent with {@link LocalHandoffCodec}.
 */
public record LocalChunk(String streamId, StreamChunk chunk) {
}
