package io.switchboard.worker.discovery;

import io.switchboard.protocol.Addresses;
import io.switchboard.protocol.CanonicalJson;
import io.switchboard.protocol.DiscoveryTrust;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.servicediscovery.Record;
import io.vertx.servicediscovery.ServiceDiscovery;
import io.vertx.servicediscovery.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * A discovery record this node keeps published until it withdraws it. Every few seconds it checks that the
 * record is still there and publishes it again if not: a node that merges into a larger cluster (it started
 * while none of its listed members was up, e.g. a restarted seed, or a network partition healed) may lose the
 * records it held, and its workers would otherwise never be routed to again. A record someone else
 * changed in place (the map is writable by any process that joins the cluster) is put back as well. With cluster
 * TLS on, the record is published signed ({@link DiscoveryTrust#seal}).
 *
 * <p>The node's launcher announces merges ({@link Addresses#CLUSTER_MERGE_LOCAL}). While the node merges, checks
 * wait: the record may be missing only until the merge has carried this node's data over, and publishing it
 * then would leave two copies. Once merged it checks at once, removes any other copy of itself, and announces the
 * record again even when it is there, because gateways are not told of records a merge brings back.
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
  private MessageConsumer<String> merges;
  private boolean merging;
  private boolean checking;
  /** A check was asked for while one ran: run another when it ends (after a merge when {@link #afterMergeAgain}). */
  private boolean checkAgain;
  private boolean afterMergeAgain;

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
        checkTimer = vertx.setPeriodic(checkIntervalMs, id -> check(false));
        merges = vertx.eventBus().localConsumer(Addresses.CLUSTER_MERGE_LOCAL, message -> onMerge(message.body()));
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
      merges.unregister();
      merges = null;
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

  private void onMerge(String state) {
    merging = Addresses.MERGE_STARTED.equals(state);
    if (!merging) {
      check(true);
    }
  }

  private void check(boolean afterMerge) {
    String expected = registration;
    if (expected == null || merging) {
      return;
    }
    if (checking) {
      checkAgain = true;
      afterMergeAgain |= afterMerge;
      return;
    }
    checking = true;
    Future<Void> checked = afterMerge ? checkAfterMerge(expected) : republishIfLost(expected);
    checked.onFailure(failure -> log.debug("could not check a discovery record", kv("record", what),
            kv("reason", String.valueOf(failure.getMessage()))))
        .onComplete(done -> {
          checking = false;
          if (checkAgain) {
            boolean again = afterMergeAgain;
            checkAgain = false;
            afterMergeAgain = false;
            check(again);
          }
        });
  }

  private Future<Void> republishIfLost(String expected) {
    return discovery.getRecord(candidate -> expected.equals(candidate.getRegistration()))
        .compose(found -> {
          // A merge that began while this check ran may be what hides the record: the check after it decides.
          if (!expected.equals(registration) || record == null || merging) {
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
        });
  }

  private Future<Void> checkAfterMerge(String expected) {
    Record mine = record;
    return discovery.getRecords(candidate -> sameRecord(mine, candidate)).compose(copies -> {
      if (!expected.equals(registration) || record == null) {
        return Future.<Void>succeededFuture();
      }
      if (copies.isEmpty()) {
        log.warn("a discovery record of this node was lost in a cluster merge; publishing it again",
            kv("record", what));
        return store();
      }
      // Keep ours, or else a copy the merge brought back (its content is replaced by ours); remove the others.
      Record kept = copies.stream().filter(copy -> expected.equals(copy.getRegistration())).findFirst()
          .orElse(copies.get(0));
      registration = kept.getRegistration();
      List<Future<Void>> removed = copies.stream().filter(copy -> copy != kept)
          .map(copy -> discovery.unpublish(copy.getRegistration())).toList();
      log.info("this node merged into the cluster; announcing its record again", kv("record", what),
          kv("copiesRemoved", removed.size()));
      Future<Void> announced = discovery.update(new Record(mine.toJson()).setRegistration(kept.getRegistration())
          .setStatus(Status.UP)).mapEmpty();
      return Future.join(announced, Future.join(removed)).mapEmpty();
    });
  }

  /** Another copy of this record: same type, name and publishing node (a node publishes one record per name). */
  private static boolean sameRecord(Record mine, Record candidate) {
    return mine != null && Objects.equals(mine.getType(), candidate.getType())
        && Objects.equals(mine.getName(), candidate.getName())
        && Objects.equals(nodeOf(mine), nodeOf(candidate));
  }

  private static String nodeOf(Record record) {
    return record.getMetadata() == null ? null : record.getMetadata().getString("nodeId");
  }

  private static boolean sameContent(Record found, Record published) {
    return Arrays.equals(content(found), content(published));
  }

  private static byte[] content(Record record) {
    return CanonicalJson.bytes(new JsonObject().put("type", record.getType()).put("name", record.getName())
        .put("location", record.getLocation()).put("metadata", record.getMetadata()));
  }
}
