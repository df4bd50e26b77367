package io.switchboard.protocol;

import io.switchboard.protocol.grpc.ModelControlCall;
import io.switchboard.protocol.grpc.WorkerHealth;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The model directory's catalog on both planes, and what older and newer peers make of it. */
class ModelCatalogTest {

  private static final ModelCatalog CATALOG = new ModelCatalog(List.of(
      new ModelEntry("qwen-7b", 4_700_000_000L, ModelEntry.LOADED, null, List.of("chat"), 2),
      new ModelEntry("broken", 100_000L, ModelEntry.FAILED, "model 'broken' failed to load on worker w1: bad file",
          List.of(), 0),
      new ModelEntry("tiny", 17_000_000L, ModelEntry.UNLOADED, null, List.of(), 0)), 5);

  @Test
  void aRecordWithACatalogRoundTripsAndStaysReadableAsBefore() {
    WorkerDescriptor descriptor = new WorkerDescriptor("w1", "n1", "", "llamacpp", 4, 8192,
        new JsonObject().put("eventbus", "a"), List.of(), CATALOG);

    JsonObject wire = new JsonObject(descriptor.toJson().encode());
    WorkerDescriptor back = WorkerDescriptor.fromJson(wire);

    assertThat(back).isEqualTo(descriptor);
    assertThat(back.catalog().truncated()).isTrue();
    assertThat(wire.getJsonObject("library").getInteger("total")).isEqualTo(5);
    // The fields an older gateway reads are where they were.
    assertThat(wire.getString("workerId")).isEqualTo("w1");
    assertThat(wire.getString("model")).isEmpty();
  }

  @Test
  void aRecordWithoutACatalogHasNoLibraryKey() {
    WorkerDescriptor descriptor = new WorkerDescriptor("w1", "n1", "m", "mocker", 4, 8192, new JsonObject());

    assertThat(descriptor.toJson().containsKey("library")).isFalse();
    assertThat(WorkerDescriptor.fromJson(descriptor.toJson()).catalog()).isEqualTo(ModelCatalog.EMPTY);
  }

  @Test
  void aLoadReportCarriesEveryModelsStateAndTheServedNames() {
    LoadReport report = new LoadReport("w1", "n1", "", 2, 0, 2, 4, false, 1L, new JsonObject(),
        List.of("broken", "qwen-7b", "tiny", "chat"), List.of(), null, List.of(), CATALOG);

    LoadReport back = LoadReport.fromJson(new JsonObject(report.toJson().encode()));

    assertThat(back).isEqualTo(report);
    assertThat(back.catalog().find("broken").describe())
        .isEqualTo("failed: model 'broken' failed to load on worker w1: bad file");
    assertThat(back.catalog().find("qwen-7b").loaded()).isTrue();
    assertThat(back.servedModels()).contains("tiny", "chat");
  }

  @Test
  void aMalformedLibraryReadsAsNoneAndBadEntriesAreSkipped() {
    assertThat(ModelCatalog.fromJson("not an object")).isEqualTo(ModelCatalog.EMPTY);
    ModelCatalog read = ModelCatalog.fromJson(new JsonObject().put("models", new JsonArray().add("x")
        .add(new JsonObject().put("name", "ok").put("sizeBytes", 3))));
    assertThat(read.models()).extracting(ModelEntry::name).containsExactly("ok");
    assertThat(read.models().get(0).state()).isEqualTo(ModelEntry.UNLOADED);
  }

  @Test
  void theCatalogSurvivesTheGrpcHealthReply() {
    WorkerHealth health = GrpcMessages.withCatalog(WorkerHealth.newBuilder().setWorkerId("w1"), CATALOG).build();

    assertThat(GrpcMessages.catalogOf(health)).isEqualTo(CATALOG);
  }

  @Test
  void modelCommandsRoundTripOnBothPlanesAndBadOnesAreRefusedWithTheReason() {
    ModelCommand load = new ModelCommand(ModelCommand.Action.LOAD, "tiny");
    assertThat(ModelCommand.fromJson(new JsonObject(load.toJson().encode()))).isEqualTo(load);
    ModelControlCall call = GrpcMessages.toModelControlCall("w1", load);
    assertThat(call.getWorkerId()).isEqualTo("w1");
    assertThat(GrpcMessages.fromModelControlCall(call)).isEqualTo(load);

    assertThatThrownBy(() -> ModelCommand.fromJson(new JsonObject().put("model", "x")))
        .hasMessageContaining("no action");
    assertThatThrownBy(() -> ModelCommand.fromJson(new JsonObject().put("action", "evict").put("model", "x")))
        .hasMessageContaining("unknown action 'evict'");
    assertThatThrownBy(() -> GrpcMessages.fromModelControlCall(ModelControlCall.newBuilder().setAction("load")
        .build())).hasMessageContaining("no model");
  }

  @Test
  void theWorkersMemoryRoundTripsAndGivesTheRoomLeft() {
    ModelCatalog catalog = new ModelCatalog(CATALOG.models(), 5, 8_000_000_000L, 6_000_000_000L);
    ModelCatalog back = ModelCatalog.fromJson(new JsonObject(catalog.toJson().encode()));
    assertThat(back).isEqualTo(catalog);
    // The loaded qwen-7b holds 4.7 GB of the 8 GB budget; the machine has 6 GB available.
    assertThat(back.occupiedBytes()).isEqualTo(4_700_000_000L);
    assertThat(back.freeBytes()).isEqualTo(3_300_000_000L);
    // qwen-7b has requests in flight: nothing could be unloaded for room.
    assertThat(back.idleLoadedBytes()).isZero();
    assertThat(back.lookup("chat").name()).isEqualTo("qwen-7b");
    assertThat(back.lookup("nobody")).isNull();
    // A catalog without memory fields (an older worker's) says the room is unknown.
    assertThat(CATALOG.freeBytes()).isEqualTo(-1);
    assertThat(ModelCatalog.fromJson(CATALOG.toJson()).toJson().containsKey("budgetBytes")).isFalse();
    assertThat(new ModelCatalog(List.of(), 0, 0, 5_000).freeBytes()).isEqualTo(5_000);
  }

  @Test
  void theGrpcHealthReplyCarriesTheWorkersMemoryAndSaysWhenItIsUnknown() throws Exception {
    ModelCatalog catalog = new ModelCatalog(CATALOG.models(), 5, 8_000_000_000L, 6_000_000_000L);
    WorkerHealth health = GrpcMessages.withCatalog(WorkerHealth.newBuilder().setWorkerId("w1"), catalog).build();
    WorkerHealth wire = WorkerHealth.parseFrom(health.toByteArray());

    assertThat(wire.getLibraryBudgetBytes()).isEqualTo(8_000_000_000L);
    assertThat(wire.getLibraryAvailableBytes()).isEqualTo(6_000_000_000L);
    assertThat(GrpcMessages.catalogOf(wire)).isEqualTo(catalog);
    assertThat(GrpcMessages.catalogOf(wire).freeBytes()).isEqualTo(3_300_000_000L);
    // A worker that knows no MemAvailable sends none: read back as unknown, not as 0 bytes available.
    ModelCatalog unknown = new ModelCatalog(CATALOG.models(), 5, 0, -1);
    WorkerHealth without = GrpcMessages.withCatalog(WorkerHealth.newBuilder(), unknown).build();
    assertThat(without.hasLibraryAvailableBytes()).isFalse();
    assertThat(GrpcMessages.catalogOf(without).availableBytes()).isEqualTo(-1);
  }

  @Test
  void aFailedModelsRetryTimeTravelsOnBothPlanesAndOnlyWhileItIsInTheFuture() {
    ModelEntry failed = new ModelEntry("broken", 100L, ModelEntry.FAILED, "model 'broken' failed to load on worker "
        + "w1: bad file", List.of(), 0, 1_700_000_060_000L);
    ModelCatalog catalog = new ModelCatalog(List.of(failed), 1);

    assertThat(ModelCatalog.fromJson(new JsonObject(catalog.toJson().encode())).find("broken")).isEqualTo(failed);
    assertThat(catalog.toJson().getJsonArray("models").getJsonObject(0).getLong("retryAtMs"))
        .isEqualTo(1_700_000_060_000L);
    assertThat(GrpcMessages.fromModelInfo(GrpcMessages.toModelInfo(failed))).isEqualTo(failed);
    assertThat(failed.backingOff(1_700_000_000_000L)).isTrue();
    assertThat(failed.backingOff(1_700_000_060_000L)).isFalse();
    // An entry without a retry time (an older worker's, or one that may be tried now) does not back off.
    assertThat(CATALOG.find("broken").backingOff(0)).isFalse();
    assertThat(CATALOG.toJson().getJsonArray("models").getJsonObject(1).containsKey("retryAtMs")).isFalse();
  }

  @Test
  void aGatewaysPlacementLoadIsMarkedOnBothPlanesAndAnOperatorsIsNot() {
    ModelCommand placement = new ModelCommand(ModelCommand.Action.LOAD, "tiny", true);
    assertThat(ModelCommand.fromJson(new JsonObject(placement.toJson().encode()))).isEqualTo(placement);
    assertThat(GrpcMessages.fromModelControlCall(GrpcMessages.toModelControlCall("w1", placement)))
        .isEqualTo(placement);
    ModelCommand operator = ModelCommand.fromJson(new JsonObject().put("action", "load").put("model", "tiny"));
    assertThat(operator.placement()).isFalse();
    assertThat(operator.toJson().containsKey("placement")).isFalse();
    assertThat(GrpcMessages.fromModelControlCall(GrpcMessages.toModelControlCall("w1", operator)).placement())
        .isFalse();
  }

  @Test
  void theRpcPoolAndTheModelOverItCrossTheWireAndOlderCatalogsHaveNone() {
    ModelCatalog catalog = new ModelCatalog(List.of(new ModelEntry("big", 40, ModelEntry.LOADED, null, List.of(), 0,
        true), new ModelEntry("small", 2, ModelEntry.LOADED, null, List.of(), 0)), 2, 0, 16,
        new RpcPoolRoom(2, 48, 64));
    JsonObject json = catalog.toJson();
    assertThat(json.getJsonObject("rpcPool")).isEqualTo(new JsonObject().put("members", 2).put("freeBytes", 48L)
        .put("totalBytes", 64L));
    assertThat(json.getJsonArray("models").getJsonObject(0).getBoolean("rpc")).isTrue();
    assertThat(json.getJsonArray("models").getJsonObject(1).containsKey("rpc")).isFalse();
    ModelCatalog read = ModelCatalog.fromJson(json);
    assertThat(read).isEqualTo(catalog);
    assertThat(read.rpcHolder().name()).isEqualTo("big");
    assertThat(read.occupiedBytes()).isEqualTo(2);
    assertThat(read.roomKind()).isEqualTo("rpc pool");
    // The gRPC Health reply carries them too, and an entry keeps both its rpc flag and its retry time on both planes.
    WorkerHealth health = GrpcMessages.withCatalog(WorkerHealth.newBuilder(), catalog).build();
    assertThat(health.getLibraryRpcPool().getMembers()).isEqualTo(2);
    assertThat(health.getLibrary(0).getOverRpc()).isTrue();
    assertThat(GrpcMessages.catalogOf(health)).isEqualTo(catalog);
    ModelEntry both = new ModelEntry("big", 40, ModelEntry.LOADING, null, List.of(), 1, true, 1_700_000_060_000L);
    assertThat(ModelEntry.fromJson(both.toJson())).isEqualTo(both);
    assertThat(GrpcMessages.fromModelInfo(GrpcMessages.toModelInfo(both))).isEqualTo(both);
    assertThat(GrpcMessages.withCatalog(WorkerHealth.newBuilder(), CATALOG).build().hasLibraryRpcPool()).isFalse();
    assertThat(GrpcMessages.catalogOf(WorkerHealth.newBuilder().build()).rpcPool()).isEqualTo(RpcPoolRoom.NONE);

    ModelCatalog older = ModelCatalog.fromJson(new JsonObject().put("total", 0).put("availableBytes", 16L));
    assertThat(older.rpcPool()).isEqualTo(RpcPoolRoom.NONE);
    assertThat(older.freeBytes()).isEqualTo(16);
    assertThat(older.roomKind()).isEqualTo("local");
  }
}
