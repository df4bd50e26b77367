package io.switchboard.worker.llamacpp;

import io.switchboard.protocol.Addresses;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GrpcMessages;
import io.switchboard.protocol.LoadReport;
import io.switchboard.protocol.ModelCatalog;
import io.switchboard.protocol.ModelCommand;
import io.switchboard.protocol.grpc.HealthReply;
import io.switchboard.protocol.grpc.HealthRequest;
import io.switchboard.protocol.grpc.ModelControlReply;
import io.switchboard.protocol.grpc.WorkerPlaneGrpcClient;
import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.LlamaCppBinaries;
import io.switchboard.worker.plane.GrpcPlaneOptions;
import io.switchboard.worker.plane.GrpcPlaneServer;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.switchboard.protocol.ModelEntry;
import io.switchboard.worker.WorkerOptions;
import io.switchboard.worker.WorkerVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A whole worker over a model directory: its models address on the event bus, the gRPC ControlModel call and Health
 * reply, and its catalog in the load report.
 */
class ModelCommandsOnBothPlanesTest {

  @TempDir
  Path dir;
  private Vertx vertx;

  @AfterEach
  void close() throws Exception {
    if (vertx != null) {
      // Undeploys the worker: its engine stops every llama-server it started.
      vertx.close().await(30, TimeUnit.SECONDS);
    }
  }

  private GrpcPlaneServer grpc;

  private WorkerVerticle deploy(WorkerOptions options) throws Exception {
    vertx = Vertx.vertx();
    grpc = new GrpcPlaneServer(new GrpcPlaneOptions().setHost("127.0.0.1").setPort(0), "node-1");
    vertx.deployVerticle(grpc).await(10, TimeUnit.SECONDS);
    WorkerVerticle worker = new WorkerVerticle(options, "node-1", grpc);
    vertx.deployVerticle(worker, new DeploymentOptions()).await(30, TimeUnit.SECONDS);
    return worker;
  }

  private WorkerOptions tinyDirectory() throws Exception {
    Files.createSymbolicLink(dir.resolve("tiny.gguf"), LlamaServerTestSupport.tinyModel());
    WorkerOptions options = new WorkerOptions(new JsonObject().put("engine", "llamacpp").put("slots", 1)
        .put("llamacpp", new JsonObject().put("modelsDir", dir.toString()).put("threads", 1).put("contextSize", 256)
            .put("serverBin", LlamaCppBinaries.directory().resolve("llama-server").toString())));
    options.validate("workers[0]");
    return options;
  }

  private WorkerPlaneGrpcClient grpcClient() {
    String endpoint = grpc.endpoint();
    int colon = endpoint.lastIndexOf(':');
    return WorkerPlaneGrpcClient.create(GrpcClient.client(vertx), SocketAddress.inetSocketAddress(
        Integer.parseInt(endpoint.substring(colon + 1)), endpoint.substring(0, colon)));
  }

  @Test
  void overGrpcALoadAnswersWithTheLoadedModelAndHealthCarriesTheLibrary() throws Exception {
    WorkerVerticle worker = deploy(tinyDirectory());
    WorkerPlaneGrpcClient client = grpcClient();

    ModelControlReply reply = client.controlModel(GrpcMessages.toModelControlCall(worker.workerId(),
        new ModelCommand(ModelCommand.Action.LOAD, "tiny"))).await(30, TimeUnit.SECONDS);

    assertThat(reply.hasModel()).as(reply.toString()).isTrue();
    assertThat(reply.getModel().getState()).isEqualTo(ModelEntry.LOADED);
    HealthReply health = client.health(HealthRequest.getDefaultInstance()).await(10, TimeUnit.SECONDS);
    ModelCatalog catalog = GrpcMessages.catalogOf(health.getWorkers(0));
    assertThat(catalog.find("tiny").loaded()).isTrue();
    assertThat(catalog.total()).isEqualTo(1);

    ModelControlReply unknown = client.controlModel(GrpcMessages.toModelControlCall(worker.workerId(),
        new ModelCommand(ModelCommand.Action.LOAD, "nope"))).await(10, TimeUnit.SECONDS);
    assertThat(unknown.hasFailure()).isTrue();
    assertThat(unknown.getFailure().getCode()).isEqualTo("MODEL_NOT_SERVED");
    ModelControlReply elsewhere = client.controlModel(GrpcMessages.toModelControlCall("other-worker",
        new ModelCommand(ModelCommand.Action.LOAD, "tiny"))).await(10, TimeUnit.SECONDS);
    assertThat(elsewhere.getFailure().getMessage()).contains("does not run on node node-1");
  }

  @Test
  void theGrpcHealthReplyCarriesTheCatalogsMemoryAsTheLoadReportDoes() throws Exception {
    WorkerOptions options = tinyDirectory();
    options.getLlamacpp().setMemoryBudgetMb(512);
    WorkerVerticle worker = deploy(options);
    // MemAvailable is read off the event loop once a second: a report taken at once may not have it yet.
    ModelCatalog reported = Eventually.read(ofSeconds(10), "MemAvailable is read",
        () -> worker.load().await(5, TimeUnit.SECONDS).catalog(), catalog -> catalog.availableBytes() >= 0);

    HealthReply health = grpcClient().health(HealthRequest.getDefaultInstance()).await(10, TimeUnit.SECONDS);

    assertThat(health.getWorkers(0).getLibraryBudgetBytes()).isEqualTo(512L * 1024 * 1024)
        .isEqualTo(reported.budgetBytes());
    ModelCatalog catalog = GrpcMessages.catalogOf(health.getWorkers(0));
    assertThat(catalog.budgetBytes()).isEqualTo(512L * 1024 * 1024);
    // MemAvailable is read on Linux: the reply carries it as the load report does.
    assertThat(health.getWorkers(0).hasLibraryAvailableBytes()).isEqualTo(reported.availableBytes() >= 0);
    assertThat(catalog.availableBytes()).isPositive();
    assertThat(catalog.freeBytes()).isPositive().isLessThanOrEqualTo(512L * 1024 * 1024);
  }

  @Test
  void aPlacementLoadRespectsTheBackoffOnBothPlanesAndAnOperatorsLoadTriesNow() throws Exception {
    WorkerOptions options = tinyDirectory();
    byte[] head = new byte[100_000];
    try (var in = Files.newInputStream(LlamaServerTestSupport.tinyModel())) {
      in.readNBytes(head, 0, head.length);
    }
    Files.write(dir.resolve("broken.gguf"), head);
    WorkerVerticle worker = deploy(options);
    String id = worker.workerId();
    JsonObject placement = new ModelCommand(ModelCommand.Action.LOAD, "broken", true).toJson();

    GenerateError first = failure(org.assertj.core.api.Assertions.catchThrowable(() -> send(id, placement)));
    assertThat(first.message()).contains("model 'broken' failed to load on worker " + id)
        .contains("llama-server exited").contains("it is not loaded again on worker " + id + " before");
    ModelEntry failed = worker.load().await(5, TimeUnit.SECONDS).catalog().find("broken");
    assertThat(failed.backingOff(System.currentTimeMillis())).isTrue();

    // Placement loads get the recorded failure at once on the event bus and over gRPC.
    GenerateError again = failure(org.assertj.core.api.Assertions.catchThrowable(() -> send(id, placement)));
    assertThat(again.message()).startsWith(failed.reason()).contains("not loaded again");
    WorkerPlaneGrpcClient client = grpcClient();
    ModelControlReply overGrpc = client.controlModel(GrpcMessages.toModelControlCall(id,
        new ModelCommand(ModelCommand.Action.LOAD, "broken", true))).await(10, TimeUnit.SECONDS);
    assertThat(overGrpc.getFailure().getMessage()).startsWith(failed.reason()).contains("not loaded again");
    HealthReply health = client.health(HealthRequest.getDefaultInstance()).await(10, TimeUnit.SECONDS);
    assertThat(GrpcMessages.catalogOf(health.getWorkers(0)).find("broken").retryAtMs())
        .isEqualTo(failed.retryAtMs());
    assertThat(worker.load().await(5, TimeUnit.SECONDS).catalog().find("broken").retryAtMs())
        .as("no load started meanwhile").isEqualTo(failed.retryAtMs());

    // An operator's load (no placement flag) tries now: llama-server runs again, fails again, a new back-off.
    ModelControlReply operator = client.controlModel(GrpcMessages.toModelControlCall(id,
        new ModelCommand(ModelCommand.Action.LOAD, "broken"))).await(30, TimeUnit.SECONDS);
    assertThat(operator.getFailure().getMessage()).contains("llama-server exited");
    assertThat(worker.load().await(5, TimeUnit.SECONDS).catalog().find("broken").retryAtMs())
        .isGreaterThan(failed.retryAtMs());
  }

  private JsonObject send(String workerId, JsonObject command) throws Exception {
    return vertx.eventBus().<JsonObject>request(Addresses.workerModels(workerId), command,
        new DeliveryOptions().setSendTimeout(30_000)).await(30, TimeUnit.SECONDS).body();
  }

  private static GenerateError failure(Throwable thrown) {
    assertThat(thrown).isInstanceOf(ReplyException.class);
    return GenerateError.fromJson(new JsonObject(thrown.getMessage()));
  }

  @Test
  void aGatewayLoadsAndUnloadsAModelAndTheLoadReportShowsIt() throws Exception {
    WorkerVerticle worker = deploy(tinyDirectory());
    String id = worker.workerId();
    LoadReport before = worker.load().await(5, TimeUnit.SECONDS);
    assertThat(before.model()).isEmpty();
    assertThat(before.models()).containsExactly("tiny");
    assertThat(before.catalog().find("tiny").state()).isEqualTo(ModelEntry.UNLOADED);

    JsonObject loaded = send(id, new JsonObject().put("action", "load").put("model", "tiny"));

    assertThat(loaded.getString("state")).isEqualTo(ModelEntry.LOADED);
    assertThat(loaded.getString("workerId")).isEqualTo(id);
    assertThat(loaded.getLong("sizeBytes")).isEqualTo(Files.size(LlamaServerTestSupport.tinyModel()));
    assertThat(worker.load().await(5, TimeUnit.SECONDS).catalog().find("tiny").loaded()).isTrue();

    JsonObject unloaded = send(id, new JsonObject().put("action", "unload").put("model", "tiny"));
    assertThat(unloaded.getString("state")).isEqualTo(ModelEntry.UNLOADED);

    GenerateError unknown = failure(org.assertj.core.api.Assertions.catchThrowable(() ->
        send(id, new JsonObject().put("action", "load").put("model", "nope"))));
    assertThat(unknown.code()).isEqualTo(GenerateError.Code.MODEL_NOT_SERVED);
    assertThat(unknown.message()).contains("has no model 'nope'");
    GenerateError malformed = failure(org.assertj.core.api.Assertions.catchThrowable(() ->
        send(id, new JsonObject().put("action", "evict").put("model", "tiny"))));
    assertThat(malformed.code()).isEqualTo(GenerateError.Code.INVALID_REQUEST);
    assertThat(malformed.message()).contains("unknown action 'evict'");
  }

  @Test
  void aWorkerWithoutAModelDirectorySaysItLoadsNothing() throws Exception {
    WorkerVerticle worker = deploy(new WorkerOptions());

    assertThatThrownBy(() -> send(worker.workerId(), new JsonObject().put("action", "load").put("model", "x")))
        .satisfies(thrown -> {
          GenerateError error = failure(thrown);
          assertThat(error.code()).isEqualTo(GenerateError.Code.MODEL_NOT_SERVED);
          assertThat(error.message()).contains("has no model directory").contains("mock-llm");
        });
    assertThat(worker.load().await(5, TimeUnit.SECONDS).catalog().isEmpty()).isTrue();
  }
}
