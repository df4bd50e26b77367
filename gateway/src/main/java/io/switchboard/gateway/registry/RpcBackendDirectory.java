package io.switchboard.gateway.registry;

import io.switchboard.protocol.DiscoveryTrust;
import io.switchboard.protocol.RpcBackendRecord;
import io.switchboard.runtime.discovery.RefusedRecords;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.servicediscovery.ServiceDiscovery;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The ggml rpc-servers the cluster's rpc-agents announce, read from discovery on demand for the admin views, each
 * with {@link DiscoveryTrust}'s verdict: the same rule a llamacpp worker's pool applies before it uses one (a
 * worker also takes the endpoints its operator listed; its own status shows its view).
 */
public final class RpcBackendDirectory {

  /** Refused records listed one by one at most; the rest are counted. */
  public static final int REFUSED_SHOWN = 32;

  /** One announced rpc-server; {@code refusal} is null when its record is honoured, else why not. */
  public record Announced(RpcBackendRecord backend, String refusal) {
  }

  /** What discovery holds: the honoured and refused records (those listed), and how many refused were not listed. */
  public record Listing(List<Announced> backends, int refusedNotListed) {
  }

  private final ServiceDiscovery discovery;
  private final DiscoveryTrust trust;

  public RpcBackendDirectory(Vertx vertx, DiscoveryTrust trust) {
    this.discovery = ServiceDiscovery.create(vertx);
    this.trust = trust;
  }

  /** Every announced rpc-server, by endpoint, with its verdict. */
  public Future<Listing> backends() {
    return discovery.getRecords(record -> RpcBackendRecord.RECORD_TYPE.equals(record.getType())
            && record.getMetadata() != null)
        .map(records -> {
          List<Announced> listed = new ArrayList<>();
          int refusedNotListed = 0;
          int refusedListed = 0;
          for (var record : records) {
            RpcBackendRecord backend;
            try {
              backend = RpcBackendRecord.fromJson(record.getMetadata());
            } catch (RuntimeException malformed) {
              refusedNotListed++;
              continue;
            }
            String refusal = RefusedRecords.cut(trust.refusal(record.toJson()), 500);
            if (refusal != null && refusedListed >= REFUSED_SHOWN) {
              refusedNotListed++;
              continue;
            }
            refusedListed += refusal == null ? 0 : 1;
            listed.add(new Announced(backend, refusal));
          }
          listed.sort(Comparator.comparing(a -> String.valueOf(a.backend().endpoint())));
          return new Listing(listed, refusedNotListed);
        });
  }

  public void close() {
    discovery.close();
  }
}
