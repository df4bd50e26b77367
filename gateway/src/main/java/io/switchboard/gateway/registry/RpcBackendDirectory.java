package io.switchboard.gateway.registry;

import io.switchboard.protocol.RpcBackendRecord;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.servicediscovery.ServiceDiscovery;

import java.util.Comparator;
import java.util.List;

/** The ggml rpc-servers the cluster's rpc-agents announce, read from discovery on demand for the admin views. */
public final class RpcBackendDirectory {

  private final ServiceDiscovery discovery;

  public RpcBackendDirectory(Vertx vertx) {
    this.discovery = ServiceDiscovery.create(vertx);
  }

  /** Every announced rpc-server, by endpoint. */
  public Future<List<RpcBackendRecord>> backends() {
    return discovery.getRecords(record -> RpcBackendRecord.RECORD_TYPE.equals(record.getType())
            && record.getMetadata() != null)
        .map(records -> records.stream().map(record -> RpcBackendRecord.fromJson(record.getMetadata()))
            .sorted(Comparator.comparing(RpcBackendRecord::endpoint)).toList());
  }

  public void close() {
    discovery.close();
  }
}
