package io.switchboard.protocol;

import io.vertx.core.json.JsonObject;

import java.security.PublicKey;

/**
 * The signature a node puts on the discovery records it publishes when cluster TLS is on, as
 * {@code metadata.signature}: {@code {"certs": [base64 DER, leaf first], "signedAtMs": N, "value": base64}}. It
 * covers the record's type, name, location and metadata (without the signature itself), and the time it was
 * signed, in {@link CanonicalJson} form. The metadata of every record a peer acts on names its node id, so a
 * signed record cannot be moved to another node; node ids are new each time a node starts, so a copy is only
 * valid while the node that signed it is a member.
 */
public final class RecordSignature {

  public static final String FIELD = "signature";
  static final String CERTS = "certs";
  static final String SIGNED_AT = "signedAtMs";
  static final String VALUE = "value";

  private RecordSignature() {
  }

  /** The bytes signed for {@code record} (a discovery record's JSON form) signed at {@code signedAtMs}. */
  static byte[] payload(JsonObject record, long signedAtMs) {
    JsonObject metadata = record.getJsonObject("metadata");
    JsonObject unsigned = metadata == null ? null : metadata.copy();
    if (unsigned != null) {
      unsigned.remove(FIELD);
    }
    return CanonicalJson.bytes(new JsonObject()
        .put("type", record.getValue("type"))
        .put("name", record.getValue("name"))
        .put("location", record.getValue("location"))
        .put("metadata", unsigned)
        .put(SIGNED_AT, signedAtMs));
  }

  /** The signature algorithm for a key: chosen by the key's type, never by what a record says. */
  static String algorithmFor(PublicKey key) {
    return algorithmFor(key.getAlgorithm());
  }

  static String algorithmFor(String keyAlgorithm) {
    return switch (keyAlgorithm) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> throw new IllegalArgumentException("a " + keyAlgorithm + " key cannot sign records (use an RSA, EC "
          + "or Ed25519 key for the cluster certificate)");
    };
  }

  /** Whether the record carries a signature object at all. */
  public static boolean present(JsonObject record) {
    JsonObject metadata = record.getJsonObject("metadata");
    return metadata != null && metadata.getValue(FIELD) instanceof JsonObject;
  }
}
