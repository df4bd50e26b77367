package io.switchboard.gateway.cluster;

import java.util.List;

/**
 * What the gateway may know of cluster membership, supplied by the launcher (which owns the cluster manager),
 * so the gateway does not depend on Hazelcast.
 */
public interface ClusterView {

  /** This node's cluster id. */
  String localNodeId();

  /** Ids of every node in the cluster now, this one included. */
  List<String> memberIds();

  /** Whether {@link #memberIds()} is the cluster's real membership (not so for one unclustered Vert.x). */
  default boolean tracksMembers() {
    return true;
  }

  /** A view of a single, unclustered node (tests). */
  static ClusterView standalone(String nodeId) {
    return new ClusterView() {
      @Override
      public String localNodeId() {
        return nodeId;
      }

      @Override
      public List<String> memberIds() {
        return List.of(nodeId);
      }

      @Override
      public boolean tracksMembers() {
        return false;
      }
    };
  }
}
