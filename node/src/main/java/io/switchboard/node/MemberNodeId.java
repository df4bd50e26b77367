package io.switchboard.node;

import com.hazelcast.cluster.Member;
import com.hazelcast.config.Config;

import java.util.UUID;

/**
 * A node's id in the cluster, and which Hazelcast member carries it. The node chooses its id before it joins and
 * publishes it as a member attribute of its own ({@value #ATTRIBUTE}), so every member can tell the node id of every
 * other from Hazelcast's membership alone (not from any record a member could write), and the id stays the same when
 * the member's cluster merges into another (Hazelcast's member UUID does not).
 *
 * <p>The node also gives its Hazelcast instance, which it starts itself, the same id under {@value #VERTX_ATTRIBUTE}:
 * the attribute vertx-hazelcast's documentation asks of a Hazelcast instance handed to its cluster manager ("Using an
 * existing Hazelcast cluster"). So Vert.x's node id (its event bus, its log lines) is Switchboard's node id.
 */
final class MemberNodeId {

  /** The member attribute where a Switchboard node publishes its node id. */
  static final String ATTRIBUTE = "switchboard.nodeId";
  /** The member attribute vertx-hazelcast takes the node id from, for a Hazelcast instance it did not start. */
  static final String VERTX_ATTRIBUTE = "__vertx.nodeId";

  private MemberNodeId() {
  }

  /** A new node id, unique in the cluster. */
  static String newId() {
    return UUID.randomUUID().toString();
  }

  /** Makes {@code config}'s member publish {@code nodeId} once it joins (member attributes are fixed at start). */
  static Config publish(Config config, String nodeId) {
    config.getMemberAttributeConfig()
        .setAttribute(ATTRIBUTE, nodeId)
        .setAttribute(VERTX_ATTRIBUTE, nodeId);
    return config;
  }

  /**
   * The node id of a member: the one it published; for a member of a version before this attribute (or a plain
   * Vert.x process), the Vert.x node id it published (the same value on nodes of this version), so a cluster of
   * mixed versions agrees on every node's id through a rolling upgrade; else the member's Hazelcast UUID.
   */
  static String of(Member member) {
    String published = member.getAttribute(ATTRIBUTE);
    if (published != null) {
      return published;
    }
    String vertx = member.getAttribute(VERTX_ATTRIBUTE);
    return vertx != null ? vertx : member.getUuid().toString();
  }
}
