package io.switchboard.node;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.gateway.dialect.responses.store.ResponseStoreOptions;
import io.switchboard.testsupport.FreePorts;
import io.vertx.core.transport.Transport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node built as the launcher builds it, in one cluster with a member of an older version (which publishes only
 * the Vert.x node id) and a stranger (no id at all): every member's node id as the node reads it from the
 * membership, and the node's Hazelcast member shut down when the node closes.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MemberNodeIdTest {

  private static ClusteredVertxFactory.ClusteredVertx node;
  private static HazelcastInstance older;
  private static HazelcastInstance stranger;

  @BeforeAll
  static void startThreeMembers() throws Exception {
    int port = FreePorts.any();
    ClusterOptions cluster = new ClusterOptions().setName("ids-" + UUID.randomUUID().toString().substring(0, 8))
        .setPort(port).setMembers(List.of("127.0.0.1:" + port));
    node = ClusteredVertxFactory.create(cluster, new ResponseStoreOptions(), Transport.NIO, 1,
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)).await(60, TimeUnit.SECONDS);
    Config olderConfig = ClusteredVertxFactory.hazelcastConfig(cluster);
    olderConfig.getMemberAttributeConfig().setAttribute(MemberNodeId.VERTX_ATTRIBUTE, "older-node");
    older = Hazelcast.newHazelcastInstance(olderConfig);
    stranger = Hazelcast.newHazelcastInstance(ClusteredVertxFactory.hazelcastConfig(cluster));
    assertThat(node.hazelcast().getCluster().getMembers()).as("three members in one cluster").hasSize(3);
  }

  @AfterAll
  static void stop() throws Exception {
    for (HazelcastInstance member : new HazelcastInstance[] {stranger, older}) {
      if (member != null) {
        member.shutdown();
      }
    }
    if (node != null) {
      node.close().await(30, TimeUnit.SECONDS);
    }
  }

  @Test
  @Order(1)
  void theNodesIdIsVertxsAndWhatItPublishes() {
    Member self = node.hazelcast().getCluster().getLocalMember();
    assertThat(node.nodeId()).isEqualTo(node.clusterManager().getNodeId());
    assertThat(self.getAttribute(MemberNodeId.ATTRIBUTE)).isEqualTo(node.nodeId());
    assertThat(MemberNodeId.of(self)).isEqualTo(node.nodeId());
    assertThat(node.clusterManager().getNodes()).as("Vert.x sees the node and the older member")
        .containsExactlyInAnyOrder(node.nodeId(), "older-node");
  }

  @Test
  @Order(2)
  void anOlderMemberIsKnownByItsVertxIdAndAStrangerByItsUuid() {
    Member olderMember = memberLike(older);
    Member strangerMember = memberLike(stranger);
    assertThat(MemberNodeId.of(olderMember)).isEqualTo("older-node");
    assertThat(MemberNodeId.of(strangerMember)).isEqualTo(strangerMember.getUuid().toString());
  }

  @Test
  @Order(3)
  void closingTheNodeShutsItsHazelcastMemberDown() throws Exception {
    CompletableFuture<Member> left = new CompletableFuture<>();
    older.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        left.complete(event.getMember());
      }
    });
    node.close().await(30, TimeUnit.SECONDS);
    assertThat(node.hazelcast().getLifecycleService().isRunning()).isFalse();
    assertThat(MemberNodeId.of(left.get(30, TimeUnit.SECONDS))).as("the node left the cluster")
        .isEqualTo(node.nodeId());
    node = null;
  }

  /** The member as the node sees it in its membership (not the other instance's own view of itself). */
  private static Member memberLike(HazelcastInstance other) {
    UUID uuid = other.getCluster().getLocalMember().getUuid();
    return node.hazelcast().getCluster().getMembers().stream().filter(member -> member.getUuid().equals(uuid))
        .findFirst().orElseThrow();
  }
}
