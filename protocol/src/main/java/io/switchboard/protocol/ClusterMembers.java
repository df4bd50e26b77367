package io.switchboard.protocol;

import java.util.List;

/**
 * The cluster's members as its membership protocol knows them (not as any record claims): for a node id, the
 * cluster addresses of the members that carry it. Supplied by the node launcher, which owns the cluster manager.
 */
@FunctionalInterface
public interface ClusterMembers {

  /** Nobody: for a node that is not clustered (tests). */
  ClusterMembers NONE = nodeId -> List.of();

  /**
   * The cluster (Hazelcast) host of each current member whose node id is {@code nodeId}: empty when no member
   * has it, more than one when several members claim the same id.
   */
  List<String> addressesOf(String nodeId);
}
