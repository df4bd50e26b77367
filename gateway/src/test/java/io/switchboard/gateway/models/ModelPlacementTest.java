package io.switchboard.gateway.models;

import io.switchboard.gateway.registry.WorkerState;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.LoadReport;
import io.switchboard.protocol.ModelCatalog;
import io.switchboard.protocol.ModelEntry;
import io.switchboard.protocol.RpcPoolRoom;
import io.switchboard.protocol.WorkerDescriptor;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which worker a model loaded nowhere is loaded on, what counts as loaded, one load per model, what is kept. */
class ModelPlacementTest {

  private static final long GIB = 1L << 30;

  /** A model directory worker whose last report lists {@code entries}, with its memory. */
  private static WorkerState library(String id, long budgetBytes, long availableBytes, ModelEntry... entries) {
    ModelCatalog catalog = new ModelCatalog(List.of(entries), entries.length, budgetBytes, availableBytes);
    List<String> names = new ArrayList<>();
    for (ModelEntry entry : entries) {
      names.add(entry.name());
      names.addAll(entry.aliases());
    }
    WorkerDescriptor descriptor = new WorkerDescriptor(id, "node-" + id, "", "llamacpp", 4, 4096, new JsonObject(),
        List.of(), catalog);
    LoadReport report = new LoadReport(id, "node-" + id, "", 0, 0, 4, 4, false, 0, null, names, null, null, null,
        catalog);
    return new WorkerState(descriptor, report, 10, null);
  }

  /** A model directory worker over an rpc pool of {@code members} rpc-servers with {@code poolFree} device memory. */
  private static WorkerState pooled(String id, long availableBytes, int members, long poolFree,
                                    ModelEntry... entries) {
    ModelCatalog catalog = new ModelCatalog(List.of(entries), entries.length, 0, availableBytes,
        new RpcPoolRoom(members, poolFree, poolFree * 2));
    WorkerDescriptor descriptor = new WorkerDescriptor(id, "node-" + id, "", "llamacpp", 4, 4096, new JsonObject(),
        List.of(), catalog);
    LoadReport report = new LoadReport(id, "node-" + id, "", 0, 0, 4, 4, false, 0, null,
        List.of(entries).stream().map(ModelEntry::name).toList(), null, null, null, catalog);
    return new WorkerState(descriptor, report, 10, null);
  }

  private static ModelEntry overRpc(String name, long size, int inFlight) {
    return new ModelEntry(name, size, ModelEntry.LOADED, null, List.of(), inFlight, true);
  }

  private static ModelEntry entry(String name, long size, String state) {
    return new ModelEntry(name, size, state, ModelEntry.FAILED.equals(state) ? "corrupt" : null, List.of(), 0);
  }

  private static ModelEntry busy(String name, long size) {
    return new ModelEntry(name, size, ModelEntry.LOADED, null, List.of(), 2);
  }

  @Test
  void aModelLoadedNowhereGoesToTheWorkerWithTheMostFreeRoom() {
    WorkerState small = library("w-small", 4 * GIB, -1, entry("m", 2 * GIB, ModelEntry.UNLOADED));
    WorkerState large = library("w-large", 16 * GIB, -1, entry("m", 2 * GIB, ModelEntry.UNLOADED),
        entry("other", 4 * GIB, ModelEntry.LOADED));
    WorkerState largest = library("w-largest", 0, 24 * GIB, entry("m", 2 * GIB, ModelEntry.UNLOADED));
    // Free: 4 GiB, 12 GiB (16 less the 4 GiB model loaded there), 24 GiB (its machine's MemAvailable, no budget).
    assertThat(ModelPlacement.choose("m", List.of(small, large, largest)).workerId()).isEqualTo("w-largest");
    assertThat(ModelPlacement.choose("m", List.of(small, large)).workerId()).isEqualTo("w-large");
  }

  @Test
  void aWorkerOverAnRpcPoolOffersThePoolsRoomAndAModelTooLargeForEveryMachineGoesThere() {
    // 40 GiB does not fit any machine's memory; the pool's two rpc-servers have 48 GiB free between them.
    WorkerState local = library("w-local", 0, 32 * GIB, entry("big", 40 * GIB, ModelEntry.UNLOADED));
    WorkerState pool = pooled("w-pool", 8 * GIB, 2, 48 * GIB, entry("big", 40 * GIB, ModelEntry.UNLOADED));
    assertThat(pool.catalog().freeBytes()).as("the room is where its next model runs: the pool").isEqualTo(48 * GIB);
    assertThat(ModelPlacement.tier("big", local)).isEqualTo(4);
    assertThat(ModelPlacement.tier("big", pool)).isEqualTo(1);
    assertThat(ModelPlacement.choose("big", List.of(local, pool)).workerId()).isEqualTo("w-pool");

    // A small model: the most room wins, local or pool.
    WorkerState localRoomy = library("w-local", 0, 32 * GIB, entry("small", 2 * GIB, ModelEntry.UNLOADED));
    WorkerState poolTight = pooled("w-pool", 8 * GIB, 1, 6 * GIB, entry("small", 2 * GIB, ModelEntry.UNLOADED));
    assertThat(ModelPlacement.choose("small", List.of(poolTight, localRoomy)).workerId()).isEqualTo("w-local");
    WorkerState poolRoomy = pooled("w-pool", 1 * GIB, 2, 48 * GIB, entry("small", 2 * GIB, ModelEntry.UNLOADED));
    assertThat(ModelPlacement.choose("small", List.of(localRoomy, poolRoomy)).workerId()).isEqualTo("w-pool");

    // A pool without members: the worker's models run on its machine, whose memory counts.
    WorkerState emptyPool = pooled("w-empty", 4 * GIB, 0, 0, entry("small", 2 * GIB, ModelEntry.UNLOADED));
    assertThat(emptyPool.catalog().freeBytes()).isEqualTo(4 * GIB);
  }

  @Test
  void aPoolHeldByAModelHasRoomOnlyOnceThatModelIsIdle() {
    // An rpc-server serves one llama-server: a model over the pool leaves no room for another until it unloads.
    WorkerState idleHolder = pooled("w-a", 1 * GIB, 2, 48 * GIB, entry("m", 10 * GIB, ModelEntry.UNLOADED),
        overRpc("other", 20 * GIB, 0));
    WorkerState busyHolder = pooled("w-b", 1 * GIB, 2, 64 * GIB, entry("m", 10 * GIB, ModelEntry.UNLOADED),
        overRpc("other", 20 * GIB, 3));
    WorkerState free = pooled("w-c", 1 * GIB, 1, 12 * GIB, entry("m", 10 * GIB, ModelEntry.UNLOADED));
    assertThat(idleHolder.catalog().freeBytes()).isZero();
    assertThat(idleHolder.catalog().freeBytesAfterIdleUnload()).isEqualTo(48 * GIB);
    assertThat(busyHolder.catalog().freeBytesAfterIdleUnload()).isZero();
    assertThat(idleHolder.catalog().occupiedBytes()).as("the pool's model holds none of the machine").isZero();
    assertThat(ModelPlacement.tier("m", idleHolder)).isEqualTo(2);
    assertThat(ModelPlacement.tier("m", busyHolder)).isEqualTo(4);
    assertThat(ModelPlacement.tier("m", free)).isEqualTo(1);
    assertThat(ModelPlacement.choose("m", List.of(idleHolder, busyHolder, free)).workerId()).isEqualTo("w-c");
    assertThat(ModelPlacement.choose("m", List.of(busyHolder, idleHolder)).workerId()).isEqualTo("w-a");
  }

  @Test
  void theBudgetAndTheMachinesAvailableMemoryBoundTheRoom() {
    // A large budget on a machine with little available memory has little room.
    WorkerState starved = library("w-starved", 64 * GIB, 1 * GIB, entry("m", 2 * GIB, ModelEntry.UNLOADED));
    WorkerState modest = library("w-modest", 8 * GIB, 16 * GIB, entry("m", 2 * GIB, ModelEntry.UNLOADED));
    assertThat(starved.catalog().freeBytes()).isEqualTo(GIB);
    assertThat(ModelPlacement.choose("m", List.of(starved, modest)).workerId()).isEqualTo("w-modest");
  }

  @Test
  void aWorkerWithRoomNowComesBeforeOneThatMustUnloadAndOneWithoutRoomComesLast() {
    WorkerState mustUnload = library("w-a", 10 * GIB, -1, entry("m", 6 * GIB, ModelEntry.UNLOADED),
        entry("idle", 8 * GIB, ModelEntry.LOADED));
    WorkerState noRoom = library("w-b", 10 * GIB, -1, entry("m", 6 * GIB, ModelEntry.UNLOADED),
        busy("busy", 8 * GIB));
    WorkerState roomNow = library("w-c", 7 * GIB, -1, entry("m", 6 * GIB, ModelEntry.UNLOADED));
    assertThat(ModelPlacement.tier("m", mustUnload)).isEqualTo(2);
    assertThat(ModelPlacement.tier("m", noRoom)).isEqualTo(4);
    assertThat(ModelPlacement.tier("m", roomNow)).isEqualTo(1);
    assertThat(ModelPlacement.choose("m", List.of(mustUnload, noRoom, roomNow)).workerId()).isEqualTo("w-c");
    assertThat(ModelPlacement.choose("m", List.of(noRoom, mustUnload)).workerId()).isEqualTo("w-a");
  }

  @Test
  void aWorkerLoadingTheModelIsJoinedAndOneWhereItFailedIsTheLastChoice() {
    WorkerState loading = library("w-loading", 2 * GIB, -1, entry("m", 2 * GIB, ModelEntry.LOADING));
    WorkerState roomy = library("w-roomy", 64 * GIB, -1, entry("m", 2 * GIB, ModelEntry.UNLOADED));
    WorkerState failed = library("w-failed", 128 * GIB, -1, entry("m", 2 * GIB, ModelEntry.FAILED));
    WorkerState unknown = library("w-unknown", 0, -1, entry("m", 2 * GIB, ModelEntry.UNLOADED));
    assertThat(ModelPlacement.choose("m", List.of(roomy, failed, loading, unknown)).workerId())
        .isEqualTo("w-loading");
    assertThat(ModelPlacement.choose("m", List.of(failed, unknown)).workerId()).isEqualTo("w-unknown");
    assertThat(ModelPlacement.choose("m", List.of(failed)).workerId()).isEqualTo("w-failed");
    assertThatThrownBy(() -> ModelPlacement.choose("m", List.of())).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aModelIsWarmWhereLoadedOnAWorkerWithoutALibraryAndByItsAliases() {
    ModelPlacement placement = new ModelPlacement((w, m) -> Future.succeededFuture(), () -> 0);
    WorkerState plain = new WorkerState(new WorkerDescriptor("w-plain", "n", "m", "mocker", 4, 4096, null), null, 10,
        null);
    WorkerState cold = library("w-cold", 0, -1, new ModelEntry("m", GIB, ModelEntry.UNLOADED, null,
        List.of("m-alias"), 0));
    WorkerState warm = library("w-warm", 0, -1, new ModelEntry("m", GIB, ModelEntry.LOADED, null,
        List.of("m-alias"), 0));
    assertThat(placement.isWarm(plain, "m")).isTrue();
    assertThat(placement.isWarm(cold, "m")).isFalse();
    assertThat(placement.isWarm(cold, "m-alias")).isFalse();
    assertThat(placement.isWarm(warm, "m")).isTrue();
    assertThat(placement.isWarm(warm, "m-alias")).isTrue();
    assertThat(placement.status("m", List.of(cold))).isEqualTo(ModelEntry.UNLOADED);
    assertThat(placement.status("m", List.of(cold, warm))).isEqualTo(ModelEntry.LOADED);
  }

  @Test
  void concurrentRequestsForOneColdModelMakeOneLoadAndTheWorkerCountsAsLoadedUntilItsReportsSay() {
    AtomicLong now = new AtomicLong(1_000);
    List<String> commands = new ArrayList<>();
    Promise<ModelEntry> reply = Promise.promise();
    ModelPlacement placement = new ModelPlacement((worker, model) -> {
      commands.add(worker.workerId() + ":" + model);
      return reply.future();
    }, now::get);
    WorkerState a = library("w-a", 8 * GIB, -1, entry("m", GIB, ModelEntry.UNLOADED));
    WorkerState b = library("w-b", 2 * GIB, -1, entry("m", GIB, ModelEntry.UNLOADED));

    ModelPlacement.Load first = placement.load("m", List.of(a, b));
    ModelPlacement.Load second = placement.load("m", List.of(b, a));
    ModelPlacement.Load third = placement.load("m", List.of(b));
    assertThat(second).isSameAs(first);
    assertThat(third).isSameAs(first);
    assertThat(commands).containsExactly("w-a:m");
    assertThat(first.workerId()).isEqualTo("w-a");
    assertThat(placement.status("m", List.of(a, b))).isEqualTo(ModelEntry.LOADING);
    assertThat(placement.toJson(model -> 3).getJsonArray("loading").getJsonObject(0).getInteger("requestsHeld"))
        .isEqualTo(3);

    reply.complete(entry("m", GIB, ModelEntry.LOADED));
    assertThat(placement.pending("m")).isNull();
    // The report that says so comes within a second: until then the gateway's own word counts.
    assertThat(placement.isWarm(a, "m")).isTrue();
    assertThat(placement.isWarm(b, "m")).isFalse();
    now.addAndGet(ModelPlacement.WARM_HINT_MS + 1);
    assertThat(placement.isWarm(a, "m")).isFalse();
    assertThat(placement.entries()).isZero();

    // Once over, the next cold request loads again (its state had said unloaded: it was unloaded since).
    placement.load("m", List.of(a, b));
    assertThat(commands).containsExactly("w-a:m", "w-a:m");
  }

  @Test
  void aFailedLoadIsKeptWithItsCauseForTheClusterViewAndTheNextLoadTriesAgain() {
    List<Promise<ModelEntry>> replies = new ArrayList<>();
    ModelPlacement placement = new ModelPlacement((worker, model) -> {
      Promise<ModelEntry> reply = Promise.promise();
      replies.add(reply);
      return reply.future();
    }, () -> 5_000);
    WorkerState a = library("w-a", 8 * GIB, -1, entry("bad", GIB, ModelEntry.UNLOADED));
    ModelPlacement.Load load = placement.load("bad", List.of(a));
    GenerateError cause = GenerateError.of(GenerateError.Code.ENGINE_FAILED, "model 'bad' failed to load on worker "
        + "w-a: llama-server exited with status 1 while loading it: gguf_init_from_file: failed to read magic", "w-a");
    replies.get(0).fail(new ModelPlacement.LoadFailedException(cause));

    assertThat(ModelPlacement.errorOf(load.done().cause(), load)).isSameAs(cause);
    JsonObject view = placement.toJson(model -> 0);
    assertThat(view.getJsonArray("loading")).isEmpty();
    assertThat(view.getJsonArray("lastFailures").getJsonObject(0).getMap())
        .containsEntry("model", "bad").containsEntry("workerId", "w-a")
        .containsEntry("reason", cause.message());
    assertThat(placement.load("bad", List.of(a))).isNotSameAs(load);
    assertThat(replies).hasSize(2);
  }

  private static ModelEntry backingOff(String name, long size, long retryAtMs) {
    return new ModelEntry(name, size, ModelEntry.FAILED, "model '" + name + "' failed to load: corrupt", List.of(), 0,
        retryAtMs);
  }

  @Test
  void aWorkerThatBacksOffAfterAFailedLoadIsNotAskedAgainUntilItsRetryTime() {
    AtomicLong now = new AtomicLong(1_000_000);
    List<String> commands = new ArrayList<>();
    ModelPlacement placement = new ModelPlacement((worker, model) -> {
      commands.add(worker.workerId() + ":" + model);
      return Promise.<ModelEntry>promise().future();
    }, now::get);
    // w-roomy has the most room, but the model's load failed there and it backs off for 30 s more.
    WorkerState roomy = library("w-roomy", 32 * GIB, -1, backingOff("m", GIB, 1_030_000));
    WorkerState tight = library("w-tight", 2 * GIB, -1, entry("m", GIB, ModelEntry.UNLOADED));

    assertThat(placement.backedOff("m", List.of(roomy, tight))).isNull();
    assertThat(placement.load("m", List.of(roomy, tight)).workerId()).isEqualTo("w-tight");
    assertThat(commands).containsExactly("w-tight:m");
  }

  @Test
  void whenEveryWorkerBacksOffTheRecordedFailureComesAtOnceWithTheEarliestRetry() {
    AtomicLong now = new AtomicLong(1_000_000);
    ModelPlacement placement = new ModelPlacement((worker, model) -> Promise.<ModelEntry>promise().future(),
        now::get);
    WorkerState a = library("w-a", 8 * GIB, -1, backingOff("m", GIB, 1_090_000));
    WorkerState b = library("w-b", 8 * GIB, -1, backingOff("m", GIB, 1_030_000));

    ModelPlacement.BackedOff backedOff = placement.backedOff("m", List.of(a, b));

    assertThat(backedOff.workerId()).isEqualTo("w-b");
    assertThat(backedOff.retryAtMs()).isEqualTo(1_030_000);
    assertThat(backedOff.retryInSeconds()).isEqualTo(30);
    assertThat(backedOff.error().workerId()).isEqualTo("w-b");
    assertThat(backedOff.error().message()).startsWith("model 'm' failed to load: corrupt")
        .contains("not loaded again before 1970-01-01T00:17:10Z (in 30 s").contains("every one of the 2 workers")
        .contains("switchboard.worker.w-b.models");
    // Past its retry time a worker may be asked again: then there is no recorded failure to give.
    now.set(1_030_000);
    assertThat(placement.backedOff("m", List.of(a, b))).isNull();
    assertThat(placement.load("m", List.of(a, b)).workerId()).isEqualTo("w-b");
    // A failed model without a retry time (an older worker's) is tried again, as before.
    WorkerState old = library("w-old", 8 * GIB, -1, entry("n", GIB, ModelEntry.FAILED));
    assertThat(placement.backedOff("n", List.of(old))).isNull();
  }

  @Test
  void failuresKeptAreBounded() {
    ModelPlacement placement = new ModelPlacement((worker, model) -> Future.failedFuture("no"), () -> 0);
    for (int i = 0; i < ModelPlacement.FAILURES_KEPT * 3; i++) {
      String model = "m" + i;
      placement.load(model, List.of(library("w", 0, -1, entry(model, 1, ModelEntry.UNLOADED))));
    }
    assertThat(placement.toJson(model -> 0).getJsonArray("lastFailures")).hasSize(ModelPlacement.FAILURES_KEPT);
    assertThat(placement.entries()).isEqualTo(ModelPlacement.FAILURES_KEPT);
  }
}
