package io.switchboard.worker;

import io.switchboard.protocol.CanonicalJson;
import io.switchboard.protocol.DiscoveryTrust;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.servicediscovery.Record;
import io.vertx.servicediscovery.ServiceDiscovery;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * A discovery record this node keeps published until it withdraws it. Every few seconds it checks that the
 * record is still there and publishes it again if not: a node that merges into a larger cluster (it started
 * while none of its listed members was up, e.g. a restarted seed, and the clusters found each other later)
 * loses the records it held, and its workers would otherwise never be routed to again. A record someone else
 * changed in place (the map is writable by any process that joins the cluster) is put back as well. With cluster
 * TLS on, the record is published signed ({@link DiscoveryTrust#seal}).
 */
public final class PublishedRecord {

  private static final Logger log = LoggerFactory.getLogger(PublishedRecord.class);
  static final long CHECK_INTERVAL_MS = 3000;

  private final Vertx vertx;
  private final ServiceDiscovery discovery;
  private final String what;
  private final DiscoveryTrust trust;
  private final long checkIntervalMs;
  private Record record;
  private String registration;
  private long checkTimer = -1;
  private boolean checking;

  /**
   * @param what  names the record in logs, e.g. "worker embedded-1"
   * @param trust signs the record when the cluster signs its records
   */
  public PublishedRecord(Vertx vertx, ServiceDiscovery discovery, String what, DiscoveryTrust trust) {
    this(vertx, discovery, what, trust, CHECK_INTERVAL_MS);
  }

  PublishedRecord(Vertx vertx, ServiceDiscovery discovery, String what, DiscoveryTrust trust, long checkIntervalMs) {
    this.vertx = vertx;
    this.discovery = discovery;
    this.what = what;
    this.trust = trust;
    this.checkIntervalMs = checkIntervalMs;
  }

  public Future<Void> publish(Record toPublish) {
    JsonObject unsigned = toPublish.toJson();
    unsigned.remove("registration");
    record = new Record(trust.seal(unsigned));
    return store().onSuccess(v -> {
      if (checkTimer < 0) {
        checkTimer = vertx.setPeriodic(checkIntervalMs, id -> republishIfLost());
      }
    });
  }

  public boolean published() {
    return registration != null;
  }

  /** Withdraws the record; fails if discovery could not remove it (a crashed node's are removed by others). */
  public Future<Void> unpublish() {
    if (checkTimer >= 0) {
      vertx.cancelTimer(checkTimer);
      checkTimer = -1;
    }
    record = null;
    if (registration == null) {
      return Future.succeededFuture();
    }
    String id = registration;
    registration = null;
    return discovery.unpublish(id);
  }

  private Future<Void> store() {
    Record attempt = new Record(record.toJson());
    return discovery.publish(attempt).map(published -> {
      registration = published.getRegistration();
      return null;
    });
  }

  private void republishIfLost() {
    String expected = registration;
    if (expected == null || checking) {
      return;
    }
    checking = true;
    discovery.getRecord(candidate -> expected.equals(candidate.getRegistration()))
        .compose(found -> {
          if (!expected.equals(registration) || record == null) {
            return Future.succeededFuture();
          }
          if (found == null) {
            log.warn("a discovery record of this node was lost (did the node merge into another cluster?); "
                + "publishing it again", kv("record", what));
            return store();
          }
          if (!sameContent(found, record)) {
            log.warn("a discovery record of this node was changed by another process (a rogue cluster member?); "
                + "publishing it again", kv("record", what));
            return discovery.unpublish(expected).recover(failure -> Future.succeededFuture()).compose(v -> store());
          }
          return Future.succeededFuture();
        })
        .onFailure(failure -> log.debug("could not check a discovery record", kv("record", what),
            kv("reason", String.valueOf(failure.getMessage()))))
        .onComplete(done -> checking = false);
  }

  private static boolean sameContent(Record found, Record published) {
    return Arrays.equals(content(found), content(published));
  }

  private static byte[] content(Record record) {
    return CanonicalJson.bytes(new JsonObject().put("type", record.getType()).put("name", record.getName())
        .put("location", record.getLocation()).put("metadata", record.getMetadata()));
  }
}
