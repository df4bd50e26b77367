package io.switchboard.worker.rpc;

import io.switchboard.protocol.DiscoveryTrust;
import io.switchboard.protocol.RpcBackendRecord;
import io.switchboard.protocol.RpcPoolRoom;
import io.switchboard.runtime.discovery.RefusedRecords;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.servicediscovery.Record;
import io.vertx.servicediscovery.ServiceDiscovery;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The rpc-servers a llama.cpp worker may split its model over: llama-server sends them the model's weights and
 * activations. Candidates come from the cluster (the rpc-agents' {@code ggml-rpc} records), from a static list in
 * config, and, only when configured, from a bounded scan of one CIDR and port. A cluster record is a candidate
 * only when {@link DiscoveryTrust} accepts it (announced by a current member at its own cluster address, and
 * signed by a holder of the cluster's certificate when cluster TLS is on) or when it names an endpoint the
 * operator listed (static list, scan CIDR); refused records are logged once each and kept, bounded, for
 * {@code /admin/cluster}. A candidate joins only after {@link RpcProbe#handshake} accepts it;
 * rejected ones are re-checked now and then, with the reason kept for {@code /admin/cluster}.
 *
 * <p>An rpc-server serves one client at a time and keeps a backlog of one connection, so nothing may poke a
 * member while llama-server uses it: while the pool is {@linkplain #inUse in use}, a member leaves only when
 * its agent withdraws its record (the agent does so within milliseconds of the server dying), and the owner
 * calls {@link #revalidate} when llama-server itself fails. While not in use, members are re-checked every
 * {@code checkIntervalMs} by TCP connect, so a dead one leaves within the interval plus the connect timeout.
 * Listeners hear the member list, in a stable order, whenever it changes. Used only on the owner's event loop.
 */
public final class RpcPool {

  private static final Logger log = LoggerFactory.getLogger(RpcPool.class);
  /** Refused cluster records kept with their reasons (the rest are counted). */
  static final int REFUSED_KEPT = 32;
  private static final long OVERFLOW_LOG_INTERVAL_MS = 60_000;

  /** Where a candidate came from. */
  public enum Source { CLUSTER, STATIC, SCAN }

  /** One candidate and what the pool knows of it. */
  private static final class Candidate {
    final String host;
    final int port;
    final Set<Source> sources = new LinkedHashSet<>();
    boolean member;
    boolean checking;
    String reason;
    String version;
    List<RpcProbeResult.DeviceMemory> devices = List.of();
    long lastCheckMs;

    Candidate(String host, int port) {
      this.host = host;
      this.port = port;
    }

    String endpoint() {
      return host + ":" + port;
    }
  }

  private final Vertx vertx;
  private final RpcProbe probe;
  private final RpcPoolOptions options;
  private final ServiceDiscovery discovery;
  private final DiscoveryTrust trust;
  private final Set<String> allowedEndpoints = new HashSet<>();
  private final Set<String> allowedHosts = new HashSet<>();
  private final RefusedRecords refused = new RefusedRecords(REFUSED_KEPT);
  private long overflowLoggedMs;
  private final Map<String, Candidate> candidates = new TreeMap<>();
  private final List<Consumer<List<String>>> listeners = new ArrayList<>();
  private List<String> lastMembers = List.of();
  private long checkTimer = -1;
  private boolean inUse;
  private long scanTimer = -1;

  /** @param trust which of the cluster's {@code ggml-rpc} records may become candidates */
  public RpcPool(Vertx vertx, RpcProbe probe, RpcPoolOptions options, DiscoveryTrust trust) {
    this.vertx = vertx;
    this.probe = probe;
    this.options = options;
    this.trust = trust;
    this.discovery = ServiceDiscovery.create(vertx);
    allowedEndpoints.addAll(options.getEndpoints());
    if (options.getScanCidr() != null) {
      allowedHosts.addAll(Cidr.parse(options.getScanCidr(), RpcPoolOptions.MAX_SCAN_ADDRESSES));
    }
  }

  /** Called with the member endpoints (host:port, sorted) whenever they change. */
  public void onChange(Consumer<List<String>> listener) {
    listeners.add(listener);
  }

  public void start() {
    for (String endpoint : options.getEndpoints()) {
      int colon = endpoint.lastIndexOf(':');
      candidate(endpoint.substring(0, colon), Integer.parseInt(endpoint.substring(colon + 1))).sources
          .add(Source.STATIC);
    }
    checkTimer = vertx.setPeriodic(0, options.getCheckIntervalMs(), id -> tick());
    if (options.getScanCidr() != null) {
      scanTimer = vertx.setPeriodic(0, options.getScanIntervalMs(), id -> scan());
    }
  }

  public void stop() {
    vertx.cancelTimer(checkTimer);
    vertx.cancelTimer(scanTimer);
    discovery.close();
  }

  /** Whether a llama-server holds the members' connections now (then they are not probed). */
  public void inUse(boolean inUse) {
    this.inUse = inUse;
  }

  /**
   * Checks every member with a full handshake now (call when no llama-server uses them), drops those that fail
   * twice, and completes with the members left.
   */
  public Future<List<String>> revalidate() {
    List<Future<Void>> checks = new ArrayList<>();
    for (Candidate c : new ArrayList<>(candidates.values())) {
      if (c.member) {
        checks.add(handshakeTwice(c).map(result -> {
          if (!result.accepted() && c.member) {
            leave(c, "it failed the handshake after llama-server stopped: " + result.reason());
          }
          return null;
        }));
      }
    }
    return Future.join(checks).transform(done -> Future.succeededFuture(members()));
  }

  private Future<RpcProbeResult> handshakeTwice(Candidate c) {
    return probe.handshake(c.host, c.port).compose(first -> {
      if (first.accepted()) {
        return Future.succeededFuture(first);
      }
      // The server may still be closing llama-server's connection: one more try shortly.
      Promise<RpcProbeResult> second = Promise.promise();
      vertx.setTimer(500, id -> probe.handshake(c.host, c.port).onComplete(second));
      return second.future();
    });
  }

  /** The members now, sorted by endpoint: the order llama-server's --rpc gets them in. */
  public List<String> members() {
    return candidates.values().stream().filter(c -> c.member).map(Candidate::endpoint).toList();
  }

  /**
   * The members now and their devices' memory, summed, as the handshake read it when each joined (a member is not
   * probed again while in use, so this is the room it had before the owner's llama-servers took it).
   */
  public RpcPoolRoom room() {
    int members = 0;
    long free = 0;
    long total = 0;
    for (Candidate c : candidates.values()) {
      if (c.member) {
        members++;
        for (RpcProbeResult.DeviceMemory device : c.devices) {
          free += device.freeBytes();
          total += device.totalBytes();
        }
      }
    }
    return new RpcPoolRoom(members, free, total);
  }

  /** Cluster records refused as candidates lately, and why: for {@code /admin/cluster}. */
  public RefusedRecords refusedRecords() {
    return refused;
  }

  /** Every candidate with its state, sources and, when rejected, why: for {@code /admin/cluster}. */
  public JsonArray toJson() {
    JsonArray list = new JsonArray();
    for (Candidate c : candidates.values()) {
      JsonArray devices = new JsonArray();
      c.devices.forEach(d -> devices.add(new JsonObject().put("freeBytes", d.freeBytes())
          .put("totalBytes", d.totalBytes())));
      list.add(new JsonObject().put("endpoint", c.endpoint()).put("state", c.member ? "member" : c.reason == null
              ? "checking" : "rejected").put("reason", c.reason).put("version", c.version).put("devices", devices)
          .put("sources", new JsonArray(c.sources.stream().map(s -> s.name().toLowerCase()).toList())));
    }
    return list;
  }

  private Candidate candidate(String host, int port) {
    return candidates.computeIfAbsent(host + ":" + port, key -> new Candidate(host, port));
  }

  private void tick() {
    discovery.getRecords(record -> RpcBackendRecord.RECORD_TYPE.equals(record.getType())
            && record.getMetadata() != null)
        .onComplete(read -> {
          if (read.succeeded()) {
            Set<String> announced = new LinkedHashSet<>();
            Map<String, String> refusedEndpoints = new LinkedHashMap<>();
            Set<String> keys = new HashSet<>();
            long now = System.currentTimeMillis();
            for (Record record : read.result()) {
              RpcBackendRecord backend;
              try {
                backend = RpcBackendRecord.fromJson(record.getMetadata());
              } catch (RuntimeException malformed) {
                continue;
              }
              String key = String.valueOf(record.getRegistration());
              keys.add(key);
              String why = admission(backend, record);
              if (why == null) {
                announced.add(backend.endpoint());
                candidate(backend.host(), backend.port()).sources.add(Source.CLUSTER);
              } else {
                refusedEndpoints.putIfAbsent(backend.endpoint(), why);
                if (refused.refused(key, record.toJson(), why, now)) {
                  log.warn("rpc-server record refused: llama-server is not given it", kv("endpoint",
                      RefusedRecords.cut(backend.endpoint(), 200)), kv("node", RefusedRecords.cut(backend.nodeId(),
                      100)), kv("reason", RefusedRecords.cut(why, 500)));
                }
              }
            }
            refused.retain(keys);
            logOverflow(now);
            for (Candidate c : new ArrayList<>(candidates.values())) {
              if (c.sources.contains(Source.CLUSTER) && !announced.contains(c.endpoint())) {
                c.sources.remove(Source.CLUSTER);
                if (c.sources.isEmpty() && c.member) {
                  String why = refusedEndpoints.get(c.endpoint());
                  leave(c, why == null ? "its rpc-agent withdrew it" : "its record is refused now: " + why);
                }
              }
            }
            candidates.values().removeIf(c -> c.sources.isEmpty() && !c.member);
          }
          checkAll();
        });
  }

  /** Null when the cluster's record may make its endpoint a candidate; else why not. */
  private String admission(RpcBackendRecord backend, Record record) {
    if (backend.host() == null || backend.port() < 1 || backend.port() > 65535) {
      return "it names no usable host and port";
    }
    if (allowedEndpoints.contains(backend.endpoint()) || allowedHosts.contains(backend.host())) {
      // The operator listed it (rpcPool.endpoints, rpcPool.scanCidr): trusted by configuration.
      return null;
    }
    return trust.refusal(record.toJson());
  }

  private void logOverflow(long now) {
    if (refused.notKept() > 0 && now - overflowLoggedMs >= OVERFLOW_LOG_INTERVAL_MS) {
      overflowLoggedMs = now;
      log.warn("more rpc-server records refused than are listed one by one", kv("notListed", refused.notKept()),
          kv("listed", refused.size()));
    }
  }

  private void checkAll() {
    long now = System.currentTimeMillis();
    for (Candidate c : new ArrayList<>(candidates.values())) {
      if (c.checking) {
        continue;
      }
      if (c.member) {
        if (inUse) {
          continue;
        }
        c.checking = true;
        probe.reachable(c.host, c.port).onComplete(alive -> {
          c.checking = false;
          if (c.member && !inUse && !Boolean.TRUE.equals(alive.result())) {
            leave(c, "it stopped accepting connections");
          }
        });
      } else if (c.reason == null || now - c.lastCheckMs >= options.getRejectedRecheckMs()) {
        c.checking = true;
        c.lastCheckMs = now;
        probe.handshake(c.host, c.port).onComplete(done -> {
          c.checking = false;
          RpcProbeResult result = done.result();
          if (result != null && result.accepted()) {
            join(c, result);
          } else {
            String reason = result != null ? result.reason() : String.valueOf(done.cause());
            if (!Objects.equals(reason, c.reason)) {
              log.warn("rpc-server candidate rejected", kv("endpoint", c.endpoint()), kv("sources", c.sources),
                  kv("reason", reason));
            }
            c.reason = reason;
            c.version = result != null ? result.version() : null;
          }
        });
      }
    }
  }

  private void join(Candidate c, RpcProbeResult result) {
    c.member = true;
    c.reason = null;
    c.version = result.version();
    c.devices = result.devices();
    log.info("rpc-server joined the pool", kv("endpoint", c.endpoint()), kv("version", result.version()),
        kv("devices", result.devices().size()), kv("sources", c.sources));
    changed();
  }

  private void leave(Candidate c, String why) {
    c.member = false;
    c.reason = "left the pool: " + why;
    c.lastCheckMs = System.currentTimeMillis();
    log.warn("rpc-server left the pool", kv("endpoint", c.endpoint()), kv("reason", why));
    if (c.sources.isEmpty()) {
      candidates.remove(c.endpoint());
    }
    changed();
  }

  private void changed() {
    List<String> members = members();
    if (!members.equals(lastMembers)) {
      lastMembers = members;
      listeners.forEach(listener -> listener.accept(members));
    }
  }

  /** A bounded scan: addresses of the CIDR where the port accepts a connection become candidates. */
  private void scan() {
    List<String> addresses = Cidr.parse(options.getScanCidr(), RpcPoolOptions.MAX_SCAN_ADDRESSES);
    List<Future<Boolean>> connects = new ArrayList<>();
    for (String address : addresses) {
      connects.add(probe.reachable(address, options.getScanPort()));
    }
    Future.join(connects).onComplete(done -> {
      int found = 0;
      for (int i = 0; i < addresses.size(); i++) {
        if (Boolean.TRUE.equals(connects.get(i).result())) {
          candidate(addresses.get(i), options.getScanPort()).sources.add(Source.SCAN);
          found++;
        }
      }
      log.info("rpc scan done", kv("cidr", options.getScanCidr()), kv("port", options.getScanPort()),
          kv("listening", found));
    });
  }
}
