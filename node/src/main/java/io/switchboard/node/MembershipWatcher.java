package io.switchboard.node;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import io.switchboard.gateway.cluster.ClusterView;
import io.switchboard.protocol.Addresses;
import io.switchboard.protocol.ClusterMembers;
import io.switchboard.protocol.RpcBackendRecord;
import io.switchboard.protocol.WorkerDescriptor;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.servicediscovery.Record;
import io.vertx.servicediscovery.ServiceDiscovery;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Keeps discovery honest when nodes leave. Vert.x Service Discovery has no TTL: a crashed node's records
 * would stay forever. So every node listens to Hazelcast membership (its own listener; Vert.x HA holds the
 * cluster manager's node listener) and, when a member leaves, tells the local gateway and workers at once
 * and removes the departed node's worker records. A periodic sweep removes records of any node that is not a
 * member, in case an event was missed (this node was busy joining, or the leaver was the last to know). The same
 * sweep tells the local gateway and workers of a member that is missing from two checks in a row without a
 * departure event: a node that crashes while its cluster merges into another leaves none, and its streams would
 * otherwise hold worker slots until their deadline. (Two checks, because a merging node's member list is briefly
 * incomplete.) It also answers which cluster address each member has ({@link ClusterMembers}), from Hazelcast's
 * membership, not from any record. When a discovery read fails because a member wrote a value this node refuses to
 * deserialize (cluster.xml's allowlist), the sweep removes that value and logs it ({@link RefusedValuePurge}).
 * When this node merges into another cluster (a healed partition, a restarted node that found the running cluster),
 * it says so on {@link Addresses#CLUSTER_MERGE_LOCAL} when the merge starts and ends, so the node's published records,
 * which a merge can drop, are checked once it ended instead of at their next periodic check.
 */
final class MembershipWatcher implements ClusterView, ClusterMembers {

  private static final Logger log = LoggerFactory.getLogger(MembershipWatcher.class);
  static final long SWEEP_INTERVAL_MS = 3000;
  /** Discovery records that belong to the node that published them (metadata {@code nodeId}). */
  static final Set<String> NODE_BOUND_RECORD_TYPES = Set.of(WorkerDescriptor.RECORD_TYPE,
      RpcBackendRecord.RECORD_TYPE);
  /** The Hazelcast map where Vert.x Service Discovery keeps every record (as JSON text). */
  static final String DISCOVERY_MAP = "service.registry";

  private final Vertx vertx;
  private final HazelcastInstance hazelcast;
  private final ServiceDiscovery discovery;
  private UUID listenerId;
  private UUID lifecycleListenerId;
  private long sweepTimer = -1;
  /** Members seen and not yet announced as gone; those missing from the last check. */
  private final Set<String> known = new HashSet<>();
  private final Set<String> missingOnce = new HashSet<>();
  private boolean purging;

  MembershipWatcher(Vertx vertx, HazelcastInstance hazelcast) {
    this.vertx = vertx;
    this.hazelcast = hazelcast;
    this.discovery = ServiceDiscovery.create(vertx);
  }

  void start() {
    listenerId = hazelcast.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
        remember(List.of(MemberNodeId.of(event.getMember())));
        log.info("cluster member joined", kv("node", MemberNodeId.of(event.getMember())),
            kv("address", event.getMember().getAddress().toString()), kv("members", event.getMembers().size()));
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        String nodeId = MemberNodeId.of(event.getMember());
        log.warn("cluster member left; removing its workers", kv("node", nodeId),
            kv("address", event.getMember().getAddress().toString()), kv("members", event.getMembers().size()));
        announced(nodeId);
        vertx.eventBus().publish(Addresses.MEMBER_LEFT_LOCAL, nodeId);
        removeRecordsOfAbsentNodes();
      }
    });
    lifecycleListenerId = hazelcast.getLifecycleService().addLifecycleListener(event -> {
      switch (event.getState()) {
        case MERGING -> {
          log.warn("this node is merging into another cluster (a network partition healed, or the clusters found "
              + "each other)", kv("node", localNodeId()));
          vertx.eventBus().publish(Addresses.CLUSTER_MERGE_LOCAL, Addresses.MERGE_STARTED);
        }
        case MERGED, MERGE_FAILED -> {
          log.info(event.getState() == LifecycleEvent.LifecycleState.MERGED ? "this node merged into the cluster"
                  : "this node could not merge into the other cluster; it stays in its own",
              kv("node", localNodeId()), kv("members", hazelcast.getCluster().getMembers().size()));
          vertx.eventBus().publish(Addresses.CLUSTER_MERGE_LOCAL, Addresses.MERGE_ENDED);
        }
        default -> {
        }
      }
    });
    // Known from the start, not from the first sweep: a member that vanishes in a merge within the first
    // seconds (this node just joined) would otherwise never be announced.
    remember(memberIds());
    sweepTimer = vertx.setPeriodic(SWEEP_INTERVAL_MS, id -> {
      announceSilentDepartures();
      removeRecordsOfAbsentNodes();
    });
  }

  private synchronized void remember(List<String> nodeIds) {
    known.addAll(nodeIds);
  }

  private synchronized void announced(String nodeId) {
    known.remove(nodeId);
    missingOnce.remove(nodeId);
  }

  private void announceSilentDepartures() {
    List<String> gone = new ArrayList<>();
    synchronized (this) {
      Set<String> members = Set.copyOf(memberIds());
      for (String id : List.copyOf(known)) {
        if (members.contains(id)) {
          missingOnce.remove(id);
        } else if (!missingOnce.add(id)) {
          gone.add(id);
          known.remove(id);
          missingOnce.remove(id);
        }
      }
      known.addAll(members);
    }
    for (String nodeId : gone) {
      log.warn("cluster member is gone without a departure event (it crashed while the cluster was merging?); "
          + "removing its workers", kv("node", nodeId));
      vertx.eventBus().publish(Addresses.MEMBER_LEFT_LOCAL, nodeId);
    }
  }

  private void removeRecordsOfAbsentNodes() {
    Set<String> members = Set.copyOf(memberIds());
    discovery.getRecords(record -> NODE_BOUND_RECORD_TYPES.contains(record.getType())
            && record.getMetadata() != null
            && !members.contains(record.getMetadata().getString("nodeId")))
        .onSuccess(stale -> stale.forEach(this::unpublish))
        .onFailure(failure -> {
          if (RefusedValuePurge.isRefusal(failure)) {
            purgeRefusedValues();
          } else {
            log.debug("could not read discovery records", kv("reason", failure.getMessage()));
          }
        });
  }

  private void purgeRefusedValues() {
    if (purging) {
      return;
    }
    purging = true;
    vertx.executeBlocking(() -> RefusedValuePurge.purge(hazelcast.getMap(DISCOVERY_MAP)), false)
        .onSuccess(removed -> removed.forEach(value -> log.error("a cluster member wrote a value this node refuses "
                + "to deserialize (its class is not on cluster.xml's allowlist: a rogue member, or a node of another "
                + "version?); removed it", kv("map", DISCOVERY_MAP), kv("key", value.key()),
            kv("refused", value.refused()))))
        .onFailure(failure -> log.error("a discovery read is refused (a value of a class not on cluster.xml's "
                + "allowlist) and the value could not be removed", kv("map", DISCOVERY_MAP),
            kv("reason", RefusedValuePurge.rootMessage(failure))))
        .onComplete(done -> purging = false);
  }

  private void unpublish(Record record) {
    discovery.unpublish(record.getRegistration())
        .onSuccess(v -> log.info("removed the record of a node that left", kv("type", record.getType()),
            kv("name", record.getName()),
            kv("node", record.getMetadata().getString("nodeId"))));
    // A failure means another survivor removed it first: nothing to do.
  }

  Future<Void> stop() {
    vertx.cancelTimer(sweepTimer);
    if (listenerId != null) {
      try {
        hazelcast.getCluster().removeMembershipListener(listenerId);
        hazelcast.getLifecycleService().removeLifecycleListener(lifecycleListenerId);
      } catch (RuntimeException alreadyDown) {
        // Hazelcast is shutting down; the listener goes with it.
      }
    }
    discovery.close();
    return Future.succeededFuture();
  }

  @Override
  public String localNodeId() {
    return MemberNodeId.of(hazelcast.getCluster().getLocalMember());
  }

  @Override
  public List<String> memberIds() {
    return hazelcast.getCluster().getMembers().stream().map(MemberNodeId::of)
        .collect(Collectors.toList());
  }

  @Override
  public List<String> addressesOf(String nodeId) {
    List<String> hosts = new ArrayList<>(1);
    for (Member member : hazelcast.getCluster().getMembers()) {
      if (nodeId.equals(MemberNodeId.of(member))) {
        hosts.add(member.getAddress().getHost());
      }
    }
    return hosts;
  }
}
