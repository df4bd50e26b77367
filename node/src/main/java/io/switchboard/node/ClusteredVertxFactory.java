package io.switchboard.node;

import io.switchboard.gateway.dialect.responses.store.ResponseStoreOptions;
import com.hazelcast.config.Config;
import com.hazelcast.config.EvictionConfig;
import com.hazelcast.config.EvictionPolicy;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MaxSizePolicy;
import com.hazelcast.config.InvalidConfigurationException;
import com.hazelcast.config.XmlConfigBuilder;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.transport.Transport;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * Builds the clustered Vert.x of a node: Hazelcast configured from {@code cluster.xml} (carried in the jar)
 * with this node's address, port, members and cluster name filled in, the event bus bound to the same
 * address, its sockets on the chosen transport, and Micrometer metrics into the node's Prometheus registry.
 * The node starts its Hazelcast member itself, publishing the node id it chose ({@link MemberNodeId}), and hands it to
 * Vert.x's cluster manager; so it also shuts it down, after Vert.x ({@link ClusteredVertx#close()}).
 */
final class ClusteredVertxFactory {

  static final String CLUSTER_XML = "cluster.xml";
  /** Every event-bus connection to another node is pinged this often... */
  static final long CLUSTER_PING_INTERVAL_MS = 1000;
  /** ...and closed when no answer came this long after a ping: together, cluster.xml's 4 s heartbeat limit. */
  static final long CLUSTER_PING_REPLY_INTERVAL_MS = 3000;

  private ClusteredVertxFactory() {
  }

  /**
   * A joined node: its Vert.x, Vert.x's cluster manager and the Hazelcast member under it, and the node's id (the same
   * as the cluster manager's).
   */
  record ClusteredVertx(Vertx vertx, HazelcastClusterManager clusterManager, HazelcastInstance hazelcast,
      String nodeId) {

    /**
     * Closes Vert.x (which leaves the cluster's event bus and maps), then shuts the Hazelcast member down whether or
     * not Vert.x closed cleanly; the result is Vert.x's.
     */
    Future<Void> close() {
      return vertx.close().eventually(() -> shutDown(hazelcast));
    }
  }

  static Future<ClusteredVertx> create(ClusterOptions cluster, ResponseStoreOptions responses, Transport transport,
      int eventLoops, PrometheusMeterRegistry registry) {
    String nodeId = MemberNodeId.newId();
    Config hazelcast = MemberNodeId.publish(hazelcastConfig(cluster), nodeId);
    hazelcast.addMapConfig(storedResponsesMap(responses));
    EventBusOptions eventBus = new EventBusOptions()
        .setHost(cluster.getHost())
        .setPort(cluster.getEventBusPort())
        // A connection to a node that stopped answering (a network partition) is closed as soon as Hazelcast would
        // remove that node, not after Vert.x's default 20 + 20 s: otherwise, once the network heals, messages wait
        // in the dead connection for TCP's retransmission backoff, and stale ones are delivered late.
        .setClusterPingInterval(CLUSTER_PING_INTERVAL_MS)
        .setClusterPingReplyInterval(CLUSTER_PING_REPLY_INTERVAL_MS);
    if (cluster.eventBusTls()) {
      // Mutual TLS: a node talks only to nodes whose certificate the cluster's CA signed, both ways.
      eventBus.setSsl(true)
          .setKeyCertOptions(new PemKeyCertOptions().setCertPath(cluster.getTlsCertPath())
              .setKeyPath(cluster.getTlsKeyPath()))
          .setTrustOptions(new PemTrustOptions().addCertPath(cluster.getTlsCaPath()))
          .setClientAuth(ClientAuth.REQUIRED);
    }
    VertxOptions options = new VertxOptions()
        // Vert.x hands each new context the next loop in turn; the node runs one gateway instance per loop
        // (node.eventLoops), and its workers and the event bus's connections take loops in the same turn.
        .setEventLoopPoolSize(eventLoops)
        .setEventBusOptions(eventBus)
        // Vert.x's event-bus and HTTP metrics cost registry lookups per message and per request (every stream
        // chunk; both HTTP hops of a proxied request); the gateway's own metrics (switchboard_*) cover what they
        // would tell. JVM metrics stay.
        .setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true)
            .addDisabledMetricsCategory(MetricsDomain.EVENT_BUS)
            .addDisabledMetricsCategory(MetricsDomain.HTTP_SERVER)
            .addDisabledMetricsCategory(MetricsDomain.HTTP_CLIENT));
    return join(hazelcast).compose(member -> {
      HazelcastClusterManager clusterManager = new HazelcastClusterManager(member);
      return Vertx.builder()
          .with(options)
          .withTransport(transport)
          .withClusterManager(clusterManager)
          .withMetrics(new MicrometerMetricsFactory(registry))
          .buildClustered()
          .map(vertx -> new ClusteredVertx(vertx, clusterManager, member, nodeId))
          .recover(failure -> shutDown(member).transform(down -> Future.failedFuture(failure)));
    });
  }

  /** Starts the Hazelcast member, which joins the cluster, on a thread of its own: joining blocks for a while. */
  private static Future<HazelcastInstance> join(Config config) {
    Promise<HazelcastInstance> joined = Promise.promise();
    new Thread(() -> {
      try {
        joined.complete(Hazelcast.newHazelcastInstance(config));
      } catch (RuntimeException failure) {
        joined.fail(failure);
      }
    }, "switchboard-cluster-join").start();
    return joined.future();
  }

  /** Shuts the Hazelcast member down (it leaves the cluster gracefully), on a thread of its own: that blocks too. */
  private static Future<Void> shutDown(HazelcastInstance member) {
    Promise<Void> down = Promise.promise();
    new Thread(() -> {
      try {
        member.getLifecycleService().shutdown();
        down.complete();
      } catch (RuntimeException failure) {
        down.fail(failure);
      }
    }, "switchboard-cluster-leave").start();
    return down.future();
  }

  /**
   * The bounds of the cluster map of stored Responses-API answers (gateway.responses.*): each member holds at most
   * maxMegabytes of it, the least recently used going first, and an entry lives ttlSeconds at most. Set on every
   * node, gateway or not, since every member holds a share of the map.
   */
  static MapConfig storedResponsesMap(ResponseStoreOptions responses) {
    return new MapConfig(ResponseStoreOptions.MAP_NAME)
        .setTimeToLiveSeconds(responses.getTtlSeconds())
        .setEvictionConfig(new EvictionConfig()
            .setEvictionPolicy(EvictionPolicy.LRU)
            .setMaxSizePolicy(MaxSizePolicy.USED_HEAP_SIZE)
            .setSize(responses.getMaxMegabytes()));
  }

  static Config hazelcastConfig(ClusterOptions cluster) {
    Properties properties = new Properties();
    properties.setProperty("switchboard.cluster.name", cluster.getName());
    properties.setProperty("switchboard.cluster.host", cluster.getHost());
    properties.setProperty("switchboard.cluster.port", Integer.toString(cluster.getPort()));
    properties.setProperty("switchboard.cluster.members", String.join(",", cluster.getMembers()));
    try (InputStream xml = ClusteredVertxFactory.class.getClassLoader().getResourceAsStream(CLUSTER_XML)) {
      if (xml == null) {
        throw new ConfigException(CLUSTER_XML + " is missing from the jar; rebuild with ./mvnw package");
      }
      return new XmlConfigBuilder(xml).setProperties(properties).build();
    } catch (IOException | InvalidConfigurationException e) {
      throw new ConfigException("cannot read " + CLUSTER_XML + ": " + e.getMessage(), e);
    }
  }
}
