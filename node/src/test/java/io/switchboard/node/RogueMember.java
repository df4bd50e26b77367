package io.switchboard.node;

import com.hazelcast.config.Config;
import com.hazelcast.config.NetworkConfig;
import io.switchboard.protocol.Addresses;
import io.switchboard.protocol.LoadReport;
import io.switchboard.protocol.RpcBackendRecord;
import io.switchboard.protocol.WorkerDescriptor;
import io.switchboard.testsupport.FreePorts;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.servicediscovery.Record;
import io.vertx.servicediscovery.ServiceDiscovery;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A process that is not one of the cluster's nodes but joins its Hazelcast, as anyone who reaches a member's
 * cluster port and knows the cluster's name can (open-source Hazelcast has no member authentication): plain
 * Hazelcast defaults, a clustered Vert.x without the cluster's certificate. It announces what it likes through the
 * same discovery API the nodes use.
 */
final class RogueMember implements AutoCloseable {

  final Vertx vertx;
  final HazelcastClusterManager manager;
  final ServiceDiscovery discovery;
  final String nodeId;
  private final List<Long> timers = new ArrayList<>();

  private RogueMember(Vertx vertx, HazelcastClusterManager manager) {
    this.vertx = vertx;
    this.manager = manager;
    this.discovery = ServiceDiscovery.create(vertx);
    this.nodeId = manager.getNodeId();
  }

  /**
   * Joins the cluster {@code name} through {@code 127.0.0.1:clusterPort}.
   *
   * @param publicEventBusPort where the rogue tells the cluster its event bus is (another listener of its own, to
   *                           see what nodes send it), or null for its real event bus
   */
  static RogueMember join(String name, int clusterPort, Integer publicEventBusPort) throws Exception {
    Config config = new Config().setClusterName(name);
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.local.localAddress", "127.0.0.1");
    config.setProperty("hazelcast.socket.bind.any", "false");
    config.setProperty("hazelcast.wait.seconds.before.join", "0");
    // Heartbeats as often as the cluster expects them (cluster.xml drops a member silent for 4 s).
    config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    NetworkConfig network = config.getNetworkConfig();
    network.setPort(FreePorts.any()).setPortAutoIncrement(true);
    network.getJoin().getAutoDetectionConfig().setEnabled(false);
    network.getJoin().getMulticastConfig().setEnabled(false);
    network.getJoin().getTcpIpConfig().setEnabled(true).addMember("127.0.0.1:" + clusterPort);
    HazelcastClusterManager manager = new HazelcastClusterManager(config);
    EventBusOptions eventBus = new EventBusOptions().setHost("127.0.0.1").setPort(0);
    if (publicEventBusPort != null) {
      eventBus.setClusterPublicHost("127.0.0.1").setClusterPublicPort(publicEventBusPort);
    }
    Vertx vertx = Vertx.builder().with(new VertxOptions().setEventBusOptions(eventBus)).withClusterManager(manager)
        .buildClustered().await(90, TimeUnit.SECONDS);
    return new RogueMember(vertx, manager);
  }

  int members() {
    return manager.getHazelcastInstance().getCluster().getMembers().size();
  }

  Record publishWorker(String workerId, String nodeId, String model, JsonObject endpoints) throws Exception {
    WorkerDescriptor worker = new WorkerDescriptor(workerId, nodeId, model, "mocker", 64, 4096, endpoints);
    return discovery.publish(new Record().setType(WorkerDescriptor.RECORD_TYPE).setName(worker.recordName())
        .setLocation(endpoints).setMetadata(worker.toJson())).await(30, TimeUnit.SECONDS);
  }

  Record publishRpcServer(String nodeId, String host, int port) throws Exception {
    RpcBackendRecord backend = new RpcBackendRecord("rpc-rogue-" + port, nodeId, host, port, "3.0.0",
        new JsonArray().add(new JsonObject().put("freeBytes", 64L << 30).put("totalBytes", 64L << 30)), 1);
    return discovery.publish(new Record().setType(RpcBackendRecord.RECORD_TYPE).setName(backend.recordName())
        .setLocation(new JsonObject().put("endpoint", backend.endpoint())).setMetadata(backend.toJson()))
        .await(30, TimeUnit.SECONDS);
  }

  /** Load reports for a worker every 500 ms, as a real worker sends them (idle, every slot free). */
  void reportLoad(String workerId, String model) {
    timers.add(vertx.setPeriodic(0, 500, id -> vertx.eventBus().publish(Addresses.LOAD_REPORTS,
        new LoadReport(workerId, nodeId, model, 0, 0, 64, 64, false, System.currentTimeMillis()).toJson())));
  }

  List<Record> records(String type) throws Exception {
    return discovery.getRecords(record -> type.equals(record.getType())).await(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws IOException {
    timers.forEach(vertx::cancelTimer);
    discovery.close();
    try {
      vertx.close().await(30, TimeUnit.SECONDS);
    } catch (Exception alreadyGone) {
      // Nothing of the rogue must outlive the test; the JVM ends soon after.
    }
  }
}
