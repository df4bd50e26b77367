package io.switchboard.gateway.registry;

import io.switchboard.protocol.Addresses;
import io.switchboard.protocol.DiscoveryTrust;
import io.switchboard.protocol.LoadReport;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.WorkerDescriptor;
import io.switchboard.runtime.discovery.RefusedRecords;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.servicediscovery.Record;
import io.vertx.servicediscovery.ServiceDiscovery;
import io.vertx.servicediscovery.ServiceDiscoveryOptions;
import io.vertx.servicediscovery.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The gateway's view of every worker in the cluster, built from discovery records (read at start, followed
 * through announcements, re-read periodically) and the workers' load reports. A worker is routable when it has
 * a record, reported load within the silence limit, and is not draining. A withdrawn record only stops new
 * routing (a draining worker still finishes its streams); a worker that falls silent, or a node that leaves
 * the cluster, is reported to the listeners so the streams bound to it fail at once instead of hanging.
 * A record {@link DiscoveryTrust} refuses (unsigned while the cluster signs its records) is never routed to: it is
 * logged once and listed, bounded, for {@code /admin/cluster}. Records are checked as they are read (on
 * announcements and resyncs), never per request. Used only on the gateway verticle's event loop.
 */
public final class WorkerRegistry {

  private static final Logger log = LoggerFactory.getLogger(WorkerRegistry.class);

  private static final int MAX_LEFT_NODES = 1024;
  /** Refused records listed with their reasons (the rest are counted). */
  static final int REFUSED_KEPT = 32;
  private static final long OVERFLOW_LOG_INTERVAL_MS = 60_000;
  private final Vertx vertx;
  private final RegistrySettings options;
  private final WorkerDepartures departures = new WorkerDepartures(50, System::currentTimeMillis);
  private final java.util.function.Supplier<List<String>> members;
  private final ServiceDiscovery discovery;
  private final DiscoveryTrust trust;
  private final RefusedRecords refused = new RefusedRecords(REFUSED_KEPT);
  private long overflowLoggedMs;
  private static final Comparator<WorkerState> BY_WORKER_ID = Comparator.comparing(WorkerState::workerId);

  private final Map<String, WorkerDescriptor> records = new HashMap<>();
  private final Map<String, LoadReport> reports = new HashMap<>();
  private final Map<String, Long> reportReceivedNanos = new HashMap<>();
  private final Map<String, Long> discoveredNanos = new HashMap<>();
  private final Set<String> silent = new HashSet<>();
  private final Map<String, LocalInFlight> openHere = new HashMap<>();
  private final List<BiConsumer<String, String>> goneListeners = new ArrayList<>();
  private final List<BiConsumer<String, String>> nodeGoneListeners = new ArrayList<>();
  private final List<Consumer<String>> removedListeners = new ArrayList<>();
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  private long resyncTimer = -1;
  private long sweepTimer = -1;

  public WorkerRegistry(Vertx vertx, RegistrySettings options) {
    this(vertx, options, () -> null, DiscoveryTrust.unclustered());
  }

  /** Nodes announced as gone, the latest last: their workers' lingering records are not routed to. */
  private final Set<String> leftNodes = new LinkedHashSet<>();

  /**
   * @param members the cluster's member node ids now (null when unknown), to tell a crash from a withdrawal
   * @param trust   which worker records to act on
   */
  public WorkerRegistry(Vertx vertx, RegistrySettings options, java.util.function.Supplier<List<String>> members,
                        DiscoveryTrust trust) {
    this.vertx = vertx;
    this.options = options;
    this.members = members;
    this.trust = trust;
    this.discovery = ServiceDiscovery.create(vertx, new ServiceDiscoveryOptions());
  }

  /** Called with (workerId, reason) when a worker stops answering (silent past the limit). */
  public void onWorkerGone(BiConsumer<String, String> listener) {
    goneListeners.add(listener);
  }

  /** Called with (nodeId, reason) when a node left the cluster: every worker on it is gone. */
  public void onNodeGone(BiConsumer<String, String> listener) {
    nodeGoneListeners.add(listener);
  }

  /** Called with the worker id when a worker leaves the registry (its record withdrawn or gone). */
  public void onWorkerRemoved(Consumer<String> listener) {
    removedListeners.add(listener);
  }

  /** Whether the worker has a record here now (routable or not). */
  public boolean knows(String workerId) {
    return records.containsKey(workerId);
  }

  public Future<Void> start() {
    MessageConsumer<JsonObject> loads = vertx.eventBus().consumer(Addresses.LOAD_REPORTS,
        message -> onLoadReport(LoadReport.fromJson(message.body())));
    MessageConsumer<JsonObject> announcements = vertx.eventBus().consumer(
        new ServiceDiscoveryOptions().getAnnounceAddress(), message -> onAnnouncement(new Record(message.body())));
    MessageConsumer<String> memberLeft = vertx.eventBus().localConsumer(Addresses.MEMBER_LEFT_LOCAL,
        message -> onNodeLeft(message.body()));
    consumers.addAll(List.of(loads, announcements, memberLeft));
    resyncTimer = vertx.setPeriodic(options.getRegistryResyncMs(), id -> resync());
    sweepTimer = vertx.setPeriodic(250, id -> sweepSilentWorkers());
    return Future.all(loads.completion(), announcements.completion()).compose(v -> resync());
  }

  public Future<Void> stop() {
    vertx.cancelTimer(resyncTimer);
    vertx.cancelTimer(sweepTimer);
    List<Future<Void>> unregistered = consumers.stream().map(c -> c.unregister()).toList();
    return Future.join(unregistered).<Void>mapEmpty().onComplete(done -> discovery.close());
  }

  /** Workers that left routing lately, and why: what a client and an operator need when a model vanishes. */
  public WorkerDepartures departures() {
    return departures;
  }

  /** Worker records refused lately, and why. */
  public RefusedRecords refusedRecords() {
    return refused;
  }

  /** Every worker known to serve {@code model}, routable or not. */
  public List<WorkerState> workersOf(String model) {
    return workersOf(model, RequestKind.CHAT);
  }

  /** Every worker known to serve {@code model} for this kind of request (embeddings: only those that do). */
  public List<WorkerState> workersOf(String model, RequestKind kind) {
    // Called on every request: filter the records first, so a cluster of many workers and models builds and
    // sorts only the few that serve this model.
    long now = System.nanoTime();
    List<WorkerState> result = new ArrayList<>();
    for (WorkerDescriptor descriptor : records.values()) {
      LoadReport report = reports.get(descriptor.workerId());
      List<String> models = kind == RequestKind.EMBEDDING ? WorkerState.embeddingModelsOf(report)
          : WorkerState.modelsOf(descriptor, report);
      if (models.contains(model)) {
        result.add(stateOf(descriptor, now));
      }
    }
    result.sort(BY_WORKER_ID);
    return result;
  }

  public List<WorkerState> allWorkers() {
    long now = System.nanoTime();
    List<WorkerState> result = new ArrayList<>();
    for (WorkerDescriptor descriptor : records.values()) {
      result.add(stateOf(descriptor, now));
    }
    result.sort(BY_WORKER_ID);
    return result;
  }

  /** Models that have at least one worker record, routable or not, sorted. */
  public Set<String> models() {
    Set<String> models = new TreeSet<>();
    for (WorkerState worker : allWorkers()) {
      models.addAll(worker.models());
    }
    return models;
  }

  /**
   * Whether some worker record serves {@code model} (for generation or embeddings), or a worker that served it is
   * among the departures remembered: a name the cluster knows, as opposed to any string a client sends.
   */
  public boolean knowsModel(String model) {
    for (WorkerDescriptor descriptor : records.values()) {
      LoadReport report = reports.get(descriptor.workerId());
      if (WorkerState.modelsOf(descriptor, report).contains(model)
          || WorkerState.embeddingModelsOf(report).contains(model)) {
        return true;
      }
    }
    return departures.lastServing(model).isPresent();
  }

  /** Models some worker answers embeddings for, sorted. */
  public Set<String> embeddingModels() {
    Set<String> models = new TreeSet<>();
    for (WorkerState worker : allWorkers()) {
      models.addAll(worker.embeddingModels());
    }
    return models;
  }

  private WorkerState stateOf(WorkerDescriptor descriptor, long nowNanos) {
    LoadReport report = reports.get(descriptor.workerId());
    Long received = reportReceivedNanos.get(descriptor.workerId());
    long ageMs = received == null ? -1 : (nowNanos - received) / 1_000_000;
    long knownMs = (nowNanos - discoveredNanos.getOrDefault(descriptor.workerId(), nowNanos)) / 1_000_000;
    return new WorkerState(descriptor, report, ageMs, exclusion(report, ageMs, knownMs),
        openHere.computeIfAbsent(descriptor.workerId(), id -> new LocalInFlight()));
  }

  private String exclusion(LoadReport report, long ageMs, long knownMs) {
    if (report == null && knownMs <= options.getWorkerSilenceMs()) {
      return "no load report received yet (workers report every second; it may be starting)";
    }
    if (report == null) {
      return "sent no load report in the " + knownMs + " ms since it was discovered (limit "
          + options.getWorkerSilenceMs() + " ms): its node may be hung, or its load reports do not reach this "
          + "gateway";
    }
    if (ageMs > options.getWorkerSilenceMs()) {
      return "silent for " + ageMs + " ms (limit " + options.getWorkerSilenceMs()
          + " ms): its node may be hung, overloaded or partitioned";
    }
    if (report.draining()) {
      return "draining: it is shutting down and finishing its in-flight requests";
    }
    if (report.unavailable() != null) {
      return report.unavailable();
    }
    return null;
  }

  private void onLoadReport(LoadReport report) {
    if (report.workerId() == null) {
      return;
    }
    reports.put(report.workerId(), report);
    reportReceivedNanos.put(report.workerId(), System.nanoTime());
    if (silent.remove(report.workerId()) && records.containsKey(report.workerId())) {
      log.info("worker reporting again; routable", kv("workerId", report.workerId()), kv("node", report.nodeId()));
    }
  }

  private void onAnnouncement(Record record) {
    if (!WorkerDescriptor.RECORD_TYPE.equals(record.getType()) || record.getMetadata() == null) {
      return;
    }
    // A refused record's removal (its node left, or it was replaced) is no news: only new records are logged.
    WorkerDescriptor descriptor = admitted(record, record.getStatus() == Status.UP);
    if (descriptor == null) {
      return;
    }
    if (record.getStatus() == Status.UP) {
      add(descriptor);
    } else if (nodeGone(descriptor.nodeId())) {
      // Survivors remove a crashed node's records too: that is not the worker withdrawing.
      withdraw(descriptor.workerId(), "node " + descriptor.nodeId() + " left the cluster");
    } else {
      withdrawIfRecordGone(descriptor);
    }
  }

  /**
   * Acts on a withdrawal announcement only when the worker has no record this gateway would route to any more. A
   * node cut off by a network partition removes the records of the members it lost sight of, and its announcements
   * of that reach this gateway after the network heals, while those records and their workers stand.
   */
  private void withdrawIfRecordGone(WorkerDescriptor descriptor) {
    discovery.getRecord(record -> WorkerDescriptor.RECORD_TYPE.equals(record.getType()) && record.getMetadata() != null
            && descriptor.workerId().equals(record.getMetadata().getString("workerId"))
            && trust.refusal(record.toJson()) == null)
        .onComplete(found -> {
          if (found.succeeded() && found.result() != null && found.result().getStatus() == Status.UP) {
            log.info("a withdrawal of a worker whose record is still published was announced (a late message from a "
                + "node that was cut off?); still routing to it", kv("workerId", descriptor.workerId()),
                kv("node", descriptor.nodeId()));
            return;
          }
          withdraw(descriptor.workerId(), "it withdrew its discovery record (draining or stopped)");
        });
  }

  private void onNodeLeft(String nodeId) {
    String reason = "node " + nodeId + " left the cluster";
    leftNodes.add(nodeId);
    if (leftNodes.size() > MAX_LEFT_NODES) {
      leftNodes.remove(leftNodes.iterator().next());
    }
    departures.nodeLeft(nodeId, reason);
    for (WorkerDescriptor descriptor : new ArrayList<>(records.values())) {
      if (descriptor.nodeId().equals(nodeId)) {
        withdraw(descriptor.workerId(), reason);
      }
    }
    // Also cuts streams of workers on that node that had already withdrawn (they were draining).
    for (BiConsumer<String, String> listener : nodeGoneListeners) {
      listener.accept(nodeId, reason);
    }
  }

  private Future<Void> resync() {
    return discovery.getRecords(record -> WorkerDescriptor.RECORD_TYPE.equals(record.getType()))
        .onSuccess(this::replaceRecords)
        .onFailure(failure -> log.warn("could not read discovery records; keeping the last known workers",
            kv("reason", failure.getMessage())))
        .<Void>mapEmpty()
        .recover(failure -> Future.succeededFuture());
  }

  private void replaceRecords(Collection<Record> current) {
    Set<String> seen = new HashSet<>();
    Set<String> read = new HashSet<>();
    for (Record record : current) {
      if (record.getStatus() != Status.UP || record.getMetadata() == null) {
        continue;
      }
      read.add(String.valueOf(record.getRegistration()));
      WorkerDescriptor descriptor = admitted(record, true);
      if (descriptor == null) {
        continue;
      }
      seen.add(descriptor.workerId());
      add(descriptor);
    }
    refused.retain(read);
    long now = System.currentTimeMillis();
    if (refused.notKept() > 0 && now - overflowLoggedMs >= OVERFLOW_LOG_INTERVAL_MS) {
      overflowLoggedMs = now;
      log.warn("more worker records refused than are listed one by one", kv("notListed", refused.notKept()),
          kv("listed", refused.size()));
    }
    for (String workerId : new ArrayList<>(records.keySet())) {
      if (!seen.contains(workerId)) {
        String nodeId = records.get(workerId).nodeId();
        withdraw(workerId, nodeGone(nodeId) ? "node " + nodeId + " left the cluster" : WorkerDepartures.RECORD_GONE);
      }
    }
  }

  /**
   * The record's worker when the record may be acted on; null when it is refused (then, with {@code note}, listed
   * and logged the first time).
   */
  private WorkerDescriptor admitted(Record record, boolean note) {
    JsonObject json = record.toJson();
    String why = trust.refusal(json);
    WorkerDescriptor descriptor = null;
    if (why == null) {
      try {
        descriptor = WorkerDescriptor.fromJson(record.getMetadata());
        if (descriptor.workerId() == null || descriptor.nodeId() == null || descriptor.model() == null) {
          why = "it names no worker id, node id or model";
        }
      } catch (RuntimeException malformed) {
        why = "its metadata is not a worker's: " + malformed.getMessage();
      }
    }
    if (why == null) {
      return descriptor;
    }
    if (note && refused.refused(String.valueOf(record.getRegistration()), json, why, System.currentTimeMillis())) {
      log.warn("worker record refused: not routed to", kv("record", RefusedRecords.cut(record.getName(), 200)),
          kv("reason", RefusedRecords.cut(why, 500)));
    }
    return null;
  }

  private boolean nodeGone(String nodeId) {
    List<String> now = members.get();
    return now != null && !now.contains(nodeId);
  }

  private void add(WorkerDescriptor descriptor) {
    if (leftNodes.contains(descriptor.nodeId())) {
      List<String> now = members.get();
      if (now == null || !now.contains(descriptor.nodeId())) {
        // A record of a node that left, still in discovery until the survivors clean it up (a resync reads it):
        // not a worker to route to.
        return;
      }
      leftNodes.remove(descriptor.nodeId());
    }
    if (records.put(descriptor.workerId(), descriptor) == null) {
      departures.returned(descriptor.workerId());
      discoveredNanos.put(descriptor.workerId(), System.nanoTime());
      log.info("worker discovered", kv("workerId", descriptor.workerId()), kv("model", descriptor.model()),
          kv("node", descriptor.nodeId()), kv("engine", descriptor.engine()));
    }
  }

  /** No new requests go to the worker; streams it is still serving go on (it may be draining). */
  private void withdraw(String workerId, String reason) {
    WorkerDescriptor removed = records.remove(workerId);
    LoadReport lastReport = reports.get(workerId);
    if (removed != null) {
      departures.departed(workerId, lastReport != null ? lastReport.servedModels()
          : removed.model().isEmpty() ? List.of() : List.of(removed.model()), removed.nodeId(), reason);
    }
    reports.remove(workerId);
    reportReceivedNanos.remove(workerId);
    discoveredNanos.remove(workerId);
    silent.remove(workerId);
    openHere.remove(workerId);
    if (removed != null) {
      log.info("worker removed from routing", kv("workerId", workerId), kv("model", removed.model()),
          kv("node", removed.nodeId()), kv("reason", reason));
      for (Consumer<String> listener : removedListeners) {
        listener.accept(workerId);
      }
    }
  }

  private void sweepSilentWorkers() {
    long now = System.nanoTime();
    for (WorkerDescriptor descriptor : records.values()) {
      Long received = reportReceivedNanos.get(descriptor.workerId());
      if (received == null || silent.contains(descriptor.workerId())) {
        continue;
      }
      long ageMs = (now - received) / 1_000_000;
      if (ageMs > options.getWorkerSilenceMs()) {
        silent.add(descriptor.workerId());
        log.warn("worker silent; not routing to it", kv("workerId", descriptor.workerId()),
            kv("node", descriptor.nodeId()), kv("silentMs", ageMs));
        notifyGone(descriptor.workerId(), "it stopped reporting load (silent for " + ageMs + " ms)");
      }
    }
    // Reports of workers without a record (never published, or removed) must not pile up.
    reports.keySet().removeIf(id -> !records.containsKey(id)
        && (now - reportReceivedNanos.getOrDefault(id, now)) / 1_000_000 > 10 * options.getWorkerSilenceMs());
    reportReceivedNanos.keySet().retainAll(reports.keySet());
  }

  private void notifyGone(String workerId, String reason) {
    for (BiConsumer<String, String> listener : goneListeners) {
      listener.accept(workerId, reason);
    }
  }
}
