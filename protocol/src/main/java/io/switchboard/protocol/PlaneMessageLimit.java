package io.switchboard.protocol;

/**
 * The largest message the request planes carry between a gateway and a worker ({@code grpc.maxMessageBytes}). The
 * gRPC plane enforces it in both directions. The clustered event bus has no limit of its own (a frame is a 4-byte
 * length and the message), and the same-node path passes objects; so a gateway checks every request against this
 * limit before it sends it, on either plane, measured as the gRPC plane encodes it. A request over it is the
 * client's to fix (413), the same on both planes, and never a worker's failure.
 */
public record PlaneMessageLimit(int maxBytes) {

  /**
   * 16 MiB: carries the largest request a gateway with the default gateway.maxBodyBytes (1 MiB) can produce (the
   * body re-encoded, the prompt taken from it, and the text of a long stream that moved to another worker) with
   * room to spare, and the answers that come back (a large embeddings answer, tool-call chunks).
   */
  public static final int DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
  /** What a call adds beside the request's fields: the worker's id, the message's framing. */
  static final int RESERVED_BYTES = 4096;
  /** Room for the request's own fields beside body and prompt (ids, sampling, trace, stop sequences). */
  static final int FIELD_BYTES = 64 * 1024;
  /** How much a body can grow when re-encoded: a number sent as 1e6 is written back as 1000000.0. */
  private static final int REENCODED_GROWTH = 4;
  /** Most UTF-8 bytes one Java char takes. */
  private static final int UTF8_BYTES_PER_CHAR = 3;

  public PlaneMessageLimit {
    if (maxBytes <= RESERVED_BYTES) {
      throw new IllegalArgumentException("a plane message limit must exceed " + RESERVED_BYTES + " bytes, got "
          + maxBytes);
    }
  }

  public static PlaneMessageLimit ofDefault() {
    return new PlaneMessageLimit(DEFAULT_MAX_BYTES);
  }

  /**
   * The least limit that carries every ordinary request of a gateway accepting bodies of {@code maxBodyBytes}: the
   * body, the prompt taken from it (never longer than the body), and the request's other fields.
   */
  public static long leastFor(long maxBodyBytes) {
    return 2 * maxBodyBytes + FIELD_BYTES;
  }

  /**
   * The size {@code request} takes on the plane when that is more than this limit carries, else 0. A request whose
   * sizes at hand (the body as the client sent it, the prompt, the text so far) bound it below the limit is not
   * encoded for the check, so ordinary requests cost nothing here.
   */
  public long sizeIfTooLarge(GenerateRequest request, long rawBodyBytes) {
    // A native form carries the client's body a second time (the chat body is translated from it).
    int bodies = request.nativeForm() == null ? 1 : 2;
    long bound = (long) bodies * REENCODED_GROWTH * Math.max(0, rawBodyBytes)
        + (long) UTF8_BYTES_PER_CHAR * (request.prompt().length() + request.resume().text().length())
        + FIELD_BYTES + RESERVED_BYTES;
    if (bound <= maxBytes) {
      return 0;
    }
    long size = (long) GrpcMessages.toCall("", request).getSerializedSize() + RESERVED_BYTES;
    return size > maxBytes ? size : 0;
  }

  /** Whether an answer's message of {@code bytes} is more than this limit carries. */
  public boolean tooLarge(long bytes) {
    return bytes + RESERVED_BYTES > maxBytes;
  }
}
