package io.switchboard.protocol;

import io.switchboard.runtime.tls.PeerTls;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Locale;

/**
 * Which discovery records a node acts on. The cluster map that holds them is writable by any process that joins
 * Hazelcast (open-source Hazelcast has no member authentication), so a record is a claim, not a fact:
 * <ul>
 *   <li>With cluster TLS on, a node signs every record it publishes ({@link #seal}) and acts only on records
 *       signed by a holder of a certificate of the cluster's CA ({@link RecordVerifier}).</li>
 *   <li>An rpc-server record ({@link RpcBackendRecord}) must come from a current member, naming that member's
 *       own cluster address as its host: llama-server sends a model's weights to the servers it is given.</li>
 * </ul>
 * Thread-safe.
 */
public final class DiscoveryTrust {

  private final RecordSigner signer;
  private final RecordVerifier verifier;
  private final ClusterMembers members;

  /**
   * @param signer   signs this node's records; null when cluster TLS is off
   * @param verifier checks others' signatures; null when cluster TLS is off (then no signature is required)
   * @param members  the cluster's membership, for rpc-server records
   */
  public DiscoveryTrust(RecordSigner signer, RecordVerifier verifier, ClusterMembers members) {
    this.signer = signer;
    this.verifier = verifier;
    this.members = members;
  }

  /** No signatures, no members known: what a node that is not clustered uses (tests). */
  public static DiscoveryTrust unclustered() {
    return new DiscoveryTrust(null, null, ClusterMembers.NONE);
  }

  /** Unsigned records, rpc-servers checked against the membership (cluster TLS off). */
  public static DiscoveryTrust unsigned(ClusterMembers members) {
    return new DiscoveryTrust(null, null, members);
  }

  /** Signed records (cluster TLS on): reads the node's key, certificate and the CA now (blocking). */
  public static DiscoveryTrust signed(PeerTls tls, ClusterMembers members) {
    return new DiscoveryTrust(RecordSigner.load(tls), RecordVerifier.load(tls.caPath()), members);
  }

  /** Whether records must carry a valid signature to be acted on. */
  public boolean requiresSignatures() {
    return verifier != null;
  }

  /** The record to publish: signed when this node has a cluster key, else as given. */
  public JsonObject seal(JsonObject record) {
    return signer == null ? record : signer.sign(record, System.currentTimeMillis());
  }

  /** Null when the record may be acted on; else why not, in words for an operator. */
  public String refusal(JsonObject record) {
    if (verifier != null) {
      String unsigned = verifier.check(record);
      if (unsigned != null) {
        return unsigned;
      }
    }
    if (RpcBackendRecord.RECORD_TYPE.equals(record.getValue("type"))) {
      return rpcServerRefusal(record);
    }
    return null;
  }

  private String rpcServerRefusal(JsonObject record) {
    if (!(record.getValue("metadata") instanceof JsonObject metadata)
        || !(metadata.getValue("nodeId") instanceof String nodeId)
        || !(metadata.getValue("host") instanceof String host)) {
      return "it names no node id or host";
    }
    List<String> addresses = members.addressesOf(nodeId);
    if (addresses.isEmpty()) {
      return "node " + nodeId + ", which announced it, is not a member of the cluster";
    }
    if (addresses.size() > 1) {
      return "node id " + nodeId + " is claimed by " + addresses.size() + " members (" + String.join(", ", addresses)
          + "): a process copying another node's id";
    }
    if (!sameHost(addresses.get(0), host)) {
      return "it names host " + host + ", but node " + nodeId + " is at " + addresses.get(0) + " in the cluster: "
          + "an rpc-agent announces its own cluster address only (list other rpc-servers in the worker's "
          + "llamacpp.rpcPool.endpoints)";
    }
    return null;
  }

  static boolean sameHost(String a, String b) {
    return normal(a).equals(normal(b));
  }

  private static String normal(String host) {
    String trimmed = host.trim().toLowerCase(Locale.ROOT);
    if (trimmed.startsWith("[") && trimmed.endsWith("]")) {
      trimmed = trimmed.substring(1, trimmed.length() - 1);
    }
    return trimmed;
  }
}
