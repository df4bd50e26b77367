package io.switchboard.worker.llamacpp;

import io.switchboard.protocol.ModelEntry;
import io.switchboard.worker.llamacpp.ModelLibrary.Model;
import io.switchboard.worker.llamacpp.ModelLibrary.ModelFile;
import io.switchboard.worker.llamacpp.ModelLibrary.State;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The model state machine and the choices made with it, without processes. */
class ModelLibraryTest {

  private static ModelFile file(String name) {
    return new ModelFile(name, Path.of("/models/" + name + ".gguf"), name.length() * 1000L);
  }

  private static ModelLibrary library(int modelsMax, String... names) {
    ModelLibrary library = new ModelLibrary(modelsMax, List.of(new ModelSettings().setName("b")
        .setAliases(List.of("chat"))));
    library.update(List.of(names).stream().map(ModelLibraryTest::file).toList(), names.length);
    return library;
  }

  private static void load(ModelLibrary library, Model model, long now) {
    library.loading(model);
    library.loaded(model, now);
  }

  @Test
  void aModelGoesThroughItsStatesAndRefusesTransitionsThatMakeNoSense() {
    ModelLibrary library = library(2, "a");
    Model a = library.find("a");
    assertThat(a.state()).isEqualTo(State.UNLOADED);
    assertThatThrownBy(() -> library.unloading(a)).hasMessageContaining("cannot unload model a while it is unloaded");
    assertThatThrownBy(() -> library.loaded(a, 1)).hasMessageContaining("while it is unloaded");

    library.loading(a);
    assertThatThrownBy(() -> library.loading(a)).hasMessageContaining("while it is loading");
    library.loaded(a, 10);
    library.unloading(a);
    assertThatThrownBy(() -> library.loading(a)).hasMessageContaining("while it is unloading");
    library.unloaded(a);
    assertThat(a.state()).isEqualTo(State.UNLOADED);
  }

  @Test
  void aFailedLoadKeepsItsReasonUntilTheNextLoadStarts() {
    ModelLibrary library = library(2, "a");
    Model a = library.find("a");
    library.loading(a);
    library.failed(a, "model 'a' failed to load on worker w: bad magic");

    ModelEntry entry = library.catalog().find("a");
    assertThat(entry.state()).isEqualTo(ModelEntry.FAILED);
    assertThat(entry.describe()).isEqualTo("failed: model 'a' failed to load on worker w: bad magic");
    assertThat(library.occupying()).isZero();

    library.loading(a);
    assertThat(library.catalog().find("a").reason()).isNull();
  }

  @Test
  void aModelWithRequestsInFlightIsNeverUnloaded() {
    ModelLibrary library = library(1, "a");
    Model a = library.find("a");
    load(library, a, 0);
    library.acquire(a, 5);

    assertThat(library.victim()).isNull();
    assertThat(library.idle(1_000_000, 10)).isEmpty();
    assertThatThrownBy(() -> library.unloading(a)).hasMessageContaining("1 requests in flight");

    assertThat(library.release(a, 6)).isTrue();
    assertThat(library.victim()).isSameAs(a);
  }

  @Test
  void theVictimIsTheLeastRecentlyUsedIdleLoadedModel() {
    ModelLibrary library = library(3, "a", "b", "c", "d");
    Model a = library.find("a");
    Model b = library.find("b");
    Model c = library.find("c");
    load(library, a, 100);
    load(library, b, 200);
    load(library, c, 300);
    // a is used again at 400 and b is busy: of the idle ones, c (300) is the least recently used.
    library.acquire(a, 400);
    library.release(a, 400);
    library.acquire(b, 450);

    assertThat(library.victim()).isSameAs(c);
    library.release(b, 500);
    assertThat(library.victim()).as("b was released at 500, after c's 300").isSameAs(c);
    library.acquire(c, 600);
    library.release(c, 600);
    assertThat(library.victim()).as("a (400) is now the least recently used").isSameAs(a);
    // Loading and unloading models are no victims.
    Model d = library.find("d");
    library.loading(d);
    assertThat(library.victim()).isSameAs(a);
  }

  @Test
  void roomCountsLoadedUnloadingAndLoadingModelsThatClaimedTheirPlace() {
    ModelLibrary library = library(2, "a", "b", "c");
    Model a = library.find("a");
    Model b = library.find("b");
    Model c = library.find("c");
    load(library, a, 1);
    library.loading(b);
    assertThat(library.claimRoom(b)).isTrue();
    library.loading(c);
    assertThat(library.occupying()).as("c waits: it holds no place").isEqualTo(2);
    assertThat(library.claimRoom(c)).isFalse();
    library.unloading(a);
    assertThat(library.claimRoom(c)).as("an unloading model still holds its memory").isFalse();
    library.unloaded(a);
    assertThat(library.claimRoom(c)).isTrue();
    assertThat(library.claimRoom(c)).as("claimed once, kept").isTrue();
    assertThat(library.occupying()).isEqualTo(2);
  }

  @Test
  void loadsWaitingForRoomDoNotKeepEachOtherOut() {
    // modelsMax 1: a is loaded and busy, b and c wait. Once a is unloaded, the first to ask gets the place.
    ModelLibrary library = library(1, "a", "b", "c");
    Model a = library.find("a");
    Model b = library.find("b");
    Model c = library.find("c");
    load(library, a, 1);
    library.acquire(a, 2);
    library.loading(b);
    library.loading(c);
    assertThat(library.claimRoom(b)).isFalse();
    assertThat(library.claimRoom(c)).isFalse();
    library.release(a, 3);
    assertThat(library.victim()).isSameAs(a);
    library.unloading(a);
    library.unloaded(a);

    assertThat(library.claimRoom(b)).isTrue();
    assertThat(library.claimRoom(c)).isFalse();
    library.loaded(b, 4);
    assertThat(library.victim()).as("c unloads b once b is idle").isSameAs(b);
  }

  @Test
  void idleModelsAreThoseWithoutRequestsForTheIdleTime() {
    ModelLibrary library = library(3, "a", "b");
    Model a = library.find("a");
    Model b = library.find("b");
    load(library, a, 1000);
    load(library, b, 1000);
    library.acquire(b, 1500);
    library.release(b, 1500);

    assertThat(library.idle(1999, 1000)).isEmpty();
    assertThat(library.idle(2000, 1000)).containsExactly(a);
    assertThat(library.idle(3000, 1000)).containsExactly(a, b);
    assertThat(library.idle(1_000_000, 0)).as("0: never").isEmpty();
  }

  @Test
  void aliasesLeadToTheirModelAndTheCatalogListsNamesSorted() {
    ModelLibrary library = library(2, "c", "b", "a");

    assertThat(library.find("chat")).isSameAs(library.find("b"));
    assertThat(library.find("nope")).isNull();
    assertThat(library.servedNames()).containsExactly("a", "b", "c", "chat");
    assertThat(library.catalog().models()).extracting(ModelEntry::name).containsExactly("a", "b", "c");
    assertThat(library.catalog().find("b").aliases()).containsExactly("chat");
    assertThat(library.catalog().find("a").sizeBytes()).isEqualTo(1000);
  }

  @Test
  void aRescanAddsNewFilesAndDropsGoneOnesUnlessTheyAreInUse() {
    ModelLibrary library = library(2, "a", "b");
    load(library, library.find("a"), 1);

    ModelLibrary.Changes changes = library.update(List.of(file("c")), 1);

    assertThat(changes.added()).containsExactly("c");
    assertThat(changes.removed()).containsExactly("b");
    assertThat(library.find("a")).as("loaded: kept until it is unloaded").isNotNull();
    assertThat(library.catalog().total()).isEqualTo(2);
  }

  @Test
  void aFailedLoadBacksOffDoublingUpToTenMinutesAndALoadThatSucceedsEndsIt() {
    ModelLibrary library = new ModelLibrary(2, 0, 30_000, List.of());
    library.update(List.of(file("a")), 1);
    Model a = library.find("a");

    library.loading(a);
    library.loadFailed(a, "model 'a' failed to load on worker w: bad magic", 1_000_000);

    assertThat(library.backingOff(a, 1_000_000)).isTrue();
    assertThat(library.backingOff(a, 1_029_999)).isTrue();
    assertThat(library.backingOff(a, 1_030_000)).isFalse();
    ModelEntry entry = library.catalog().find("a");
    assertThat(entry.retryAtMs()).isEqualTo(1_030_000);
    assertThat(entry.backingOff(1_000_000)).isTrue();
    assertThat(entry.reason()).isEqualTo("model 'a' failed to load on worker w: bad magic");

    // Each failed load in a row doubles the back-off: 30 s, 60 s, 120 s, ... up to 10 minutes.
    library.loading(a);
    library.loadFailed(a, "again", 2_000_000);
    assertThat(a.retryAtMs()).isEqualTo(2_060_000);
    assertThat(library.backoffMs(1)).isEqualTo(30_000);
    assertThat(library.backoffMs(3)).isEqualTo(120_000);
    assertThat(library.backoffMs(5)).isEqualTo(480_000);
    assertThat(library.backoffMs(6)).isEqualTo(600_000);
    assertThat(library.backoffMs(60)).isEqualTo(600_000);
    // A base longer than 10 minutes is not shortened.
    assertThat(new ModelLibrary(1, 0, 900_000, List.of()).backoffMs(3)).isEqualTo(900_000);

    // A load that succeeds ends it: the next failure starts from the base again.
    library.loading(a);
    library.loaded(a, 3_000_000);
    assertThat(library.catalog().find("a").retryAtMs()).isZero();
    library.unloading(a);
    library.unloaded(a);
    library.loading(a);
    library.loadFailed(a, "third", 4_000_000);
    assertThat(a.retryAtMs()).isEqualTo(4_030_000);
  }

  @Test
  void aCrashOfALoadedModelOrNoBackoffSettingStartsNoBackoffAndAnOperatorEndsOne() {
    ModelLibrary library = new ModelLibrary(2, 0, 30_000, List.of());
    library.update(List.of(file("a"), file("bb")), 2);
    Model a = library.find("a");
    load(library, a, 1);
    library.failed(a, "its llama-server exited");
    assertThat(library.backingOff(a, 2)).isFalse();
    assertThat(library.catalog().find("a").retryAtMs()).isZero();

    Model b = library.find("bb");
    library.loading(b);
    library.loadFailed(b, "bad", 100);
    assertThat(library.backingOff(b, 101)).isTrue();
    library.endBackoff(b);
    assertThat(library.backingOff(b, 101)).isFalse();
    assertThat(b.failedLoads()).isZero();

    ModelLibrary none = new ModelLibrary(2, 0, 0, List.of());
    none.update(List.of(file("a")), 1);
    none.loading(none.find("a"));
    none.loadFailed(none.find("a"), "bad", 100);
    assertThat(none.backingOff(none.find("a"), 100)).isFalse();
    assertThat(none.catalog().find("a").retryAtMs()).isZero();
  }

  @Test
  void aChangedFileEndsTheBackoffAndTakesTheNewSizeButALoadedModelKeepsItsFile() {
    ModelLibrary library = new ModelLibrary(2, 0, 30_000, List.of());
    Path path = Path.of("/models/a.gguf");
    library.update(List.of(new ModelFile("a", path, 1000, 50), new ModelFile("b", Path.of("/models/b.gguf"), 10, 5)),
        2);
    Model a = library.find("a");
    library.loading(a);
    library.loadFailed(a, "bad", 1_000);

    // The same file again: nothing changes.
    ModelLibrary.Changes same = library.update(List.of(new ModelFile("a", path, 1000, 50),
        new ModelFile("b", Path.of("/models/b.gguf"), 10, 5)), 2);
    assertThat(same.changed()).isEmpty();
    assertThat(library.backingOff(a, 1_001)).isTrue();

    // Rewritten (a new time): the back-off ends and the model is unloaded, to be tried on the next request.
    ModelLibrary.Changes touched = library.update(List.of(new ModelFile("a", path, 1000, 60),
        new ModelFile("b", Path.of("/models/b.gguf"), 10, 5)), 2);
    assertThat(touched.changed()).containsExactly("a");
    assertThat(library.find("a")).isSameAs(a);
    assertThat(a.state()).isEqualTo(State.UNLOADED);
    assertThat(library.backingOff(a, 1_001)).isFalse();
    assertThat(library.catalog().find("a").reason()).isNull();

    // Replaced by a file of another size: the catalog announces the new size.
    library.loading(a);
    library.loadFailed(a, "bad again", 2_000);
    library.update(List.of(new ModelFile("a", path, 2000, 60), new ModelFile("b", Path.of("/models/b.gguf"), 10, 5)),
        2);
    assertThat(library.catalog().find("a").sizeBytes()).isEqualTo(2000);
    assertThat(library.backingOff(a, 2_001)).isFalse();

    // A loaded model's file changing under it: it keeps what it loaded until it holds no memory.
    Model b = library.find("b");
    load(library, b, 1);
    assertThat(library.update(List.of(new ModelFile("a", path, 2000, 60),
        new ModelFile("b", Path.of("/models/b.gguf"), 99, 6)), 2).changed()).isEmpty();
    assertThat(library.catalog().find("b").sizeBytes()).isEqualTo(10);
  }

  @Test
  void releasingMoreThanAcquiredIsABug() {
    ModelLibrary library = library(1, "a");
    assertThatThrownBy(() -> library.release(library.find("a"), 1)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aMemoryBudgetBoundsTheLoadedModelsByTheirFileSizesAndIsInTheCatalog() {
    // Files: "aa" 2000 bytes, "bbb" 3000, "cccc" 4000, "ddddddddddd" 11000; a budget of 7000 bytes, modelsMax 10.
    ModelLibrary library = new ModelLibrary(10, 7000, List.of());
    library.update(List.of(file("aa"), file("bbb"), file("cccc"), file("ddddddddddd")), 4);
    Model aa = library.find("aa");
    Model bbb = library.find("bbb");
    Model cccc = library.find("cccc");
    load(library, aa, 1);
    load(library, bbb, 2);
    assertThat(library.occupiedBytes()).isEqualTo(5000);
    library.loading(cccc);
    // 9000 bytes would be held: no room until the least recently used idle model goes.
    assertThat(library.claimRoom(cccc)).isFalse();
    assertThat(library.victim()).isSameAs(aa);
    library.unloading(aa);
    library.unloaded(aa);
    assertThat(library.claimRoom(cccc)).isTrue();
    assertThat(library.largerThanBudget(library.find("ddddddddddd"))).isTrue();
    assertThat(library.largerThanBudget(cccc)).isFalse();

    var catalog = library.catalog(123_456);
    assertThat(catalog.budgetBytes()).isEqualTo(7000);
    assertThat(catalog.availableBytes()).isEqualTo(123_456);
    assertThat(catalog.occupiedBytes()).isEqualTo(7000);
    assertThat(catalog.freeBytes()).isZero();
    assertThat(new ModelLibrary(2, List.of()).catalog().freeBytes()).isEqualTo(-1);
  }

  @Test
  void memAvailableIsReadInBytes() {
    assertThat(MemInfo.parseAvailable(List.of("MemTotal:       16314576 kB", "MemFree:  1 kB",
        "MemAvailable:    8157288 kB"))).isEqualTo(8157288L * 1024);
    assertThat(MemInfo.parseAvailable(List.of("MemTotal: 1 kB"))).isEqualTo(-1);
    assertThat(MemInfo.parseAvailable(List.of("MemAvailable: lots"))).isEqualTo(-1);
  }

  @Test
  void oneModelAtATimeHoldsTheRpcPoolAndItHoldsNoneOfTheMachinesBudget() {
    // Files of 1000 (a), 2000 (bb), 3000 (ccc) bytes; a budget of 2500 bytes of this machine's memory.
    ModelLibrary library = new ModelLibrary(3, 2500, List.of());
    library.update(List.of(file("a"), file("bb"), file("ccc")), 3);
    Model a = library.find("a");
    Model bb = library.find("bb");
    Model ccc = library.find("ccc");

    library.loading(ccc, true);
    assertThat(library.largerThanBudget(ccc)).as("over the pool the local budget does not bound it").isFalse();
    assertThat(library.claimRoom(ccc)).isTrue();
    library.loaded(ccc, 10);
    assertThat(library.rpcHolder()).isSameAs(ccc);
    assertThat(library.occupiedBytes()).isZero();
    assertThat(ccc.entry().overRpc()).isTrue();

    // Another model over the pool finds it held: the idle holder is the one to unload, not a local model.
    load(library, a, 5);
    assertThat(a.entry().overRpc()).isFalse();
    library.loading(bb, true);
    assertThat(library.claimRoom(bb)).isFalse();
    assertThat(library.victim(bb)).isSameAs(ccc);
    library.acquire(ccc, 20);
    assertThat(library.victim(bb)).as("a busy holder is never unloaded: the load waits").isNull();
    library.release(ccc, 30);
    library.unloading(ccc);
    library.unloaded(ccc);
    assertThat(ccc.entry().overRpc()).isFalse();
    assertThat(library.claimRoom(bb)).isTrue();
    assertThat(library.rpcHolder()).isSameAs(bb);
    assertThat(library.occupiedBytes()).as("only the local model counts against the budget").isEqualTo(1000);
  }

  @Test
  void aBackoffHoldsWhereTheFailedLoadRanAndEndsWhenThePoolChangesButAModelThatBacksOffHoldsNoPool() {
    ModelLibrary library = new ModelLibrary(3, 0, 30_000, List.of());
    library.update(List.of(file("a"), file("bb"), file("ccc")), 3);
    Model a = library.find("a");
    Model bb = library.find("bb");
    Model ccc = library.find("ccc");

    // bb fails over the pool of two: it backs off, and it holds the pool no more (the next model takes it).
    library.loading(bb, true);
    assertThat(library.claimRoom(bb)).isTrue();
    library.loadFailed(bb, "model 'bb' failed to load on worker w: llama-server exited", 1_000,
        List.of("10.0.0.6:50052", "10.0.0.7:50052"));
    assertThat(library.backingOff(bb, 1_000)).isTrue();
    assertThat(bb.entry().overRpc()).isFalse();
    assertThat(bb.entry().retryAtMs()).isEqualTo(31_000);
    assertThat(library.rpcHolder()).isNull();
    library.loading(ccc, true);
    assertThat(library.claimRoom(ccc)).as("a model that backs off does not keep the next one off the pool").isTrue();
    // a fails on this machine (the pool had no members then).
    library.loading(a);
    library.loadFailed(a, "bad", 1_000);

    // The pool has the same two members: bb still backs off, but a's next load runs over the pool, not on this
    // machine where it failed: a is tried at once. Then one member leaves: bb is tried over the one left.
    assertThat(library.placeChanged(List.of("10.0.0.6:50052", "10.0.0.7:50052"))).containsExactly("a");
    assertThat(library.backingOff(a, 1_000)).isFalse();
    assertThat(library.backingOff(bb, 1_000)).isTrue();
    assertThat(library.placeChanged(List.of("10.0.0.7:50052"))).containsExactly("bb");
    assertThat(library.backingOff(bb, 1_000)).isFalse();
    assertThat(bb.entry().retryAtMs()).isZero();
    assertThat(bb.failedLoads()).as("the count stays: a place that keeps changing still backs off longer")
        .isEqualTo(1);
    assertThat(bb.entry().state()).isEqualTo(ModelEntry.FAILED);
  }
}
