package io.switchboard.worker;

import io.switchboard.protocol.DiscoveryTrust;
import io.switchboard.protocol.WorkerDescriptor;
import io.switchboard.worker.discovery.PublishedRecord;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.servicediscovery.Record;
import io.vertx.servicediscovery.ServiceDiscovery;

import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Publishes a worker's discovery record (cluster-wide, through Vert.x Service Discovery) and removes it on
 * shutdown. A crashed node cannot remove its own records: the launcher's membership watcher on the surviving
 * nodes does, by the record's node id. A record lost while the node lives is published again
 * ({@link PublishedRecord}).
 */
final class WorkerAnnouncer {

  private static final Logger log = LoggerFactory.getLogger(WorkerAnnouncer.class);

  private final ServiceDiscovery discovery;
  private final Supplier<WorkerDescriptor> describe;
  private final PublishedRecord record;
  private final String workerId;

  /** @param describe the record as it is when published (a model directory's catalog is read once it started) */
  WorkerAnnouncer(Vertx vertx, String workerId, Supplier<WorkerDescriptor> describe, DiscoveryTrust trust) {
    this.discovery = ServiceDiscovery.create(vertx);
    this.describe = describe;
    this.workerId = workerId;
    this.record = new PublishedRecord(vertx, discovery, "worker " + workerId, trust);
  }

  Future<Void> publish() {
    WorkerDescriptor descriptor = describe.get();
    return record.publish(new Record()
            .setType(WorkerDescriptor.RECORD_TYPE)
            .setName(descriptor.recordName())
            .setLocation(descriptor.endpoints())
            .setMetadata(descriptor.toJson()))
        .onSuccess(v -> log.info("worker published", kv("workerId", descriptor.workerId()),
            kv("model", descriptor.model()), kv("engine", descriptor.engine()), kv("node", descriptor.nodeId()),
            kv("slots", descriptor.slots()), kv("modelsInDirectory", descriptor.catalog().total())));
  }

  Future<Void> unpublish() {
    if (!record.published()) {
      return record.unpublish();
    }
    return record.unpublish()
        .onSuccess(v -> log.info("worker unpublished", kv("workerId", workerId)))
        .recover(failure -> {
          log.warn("could not unpublish worker record; survivors remove it when this node leaves",
              kv("workerId", workerId), kv("reason", failure.getMessage()));
          return Future.succeededFuture();
        });
  }

  void close() {
    discovery.close();
  }
}
