package io.switchboard.gateway.models;

import io.switchboard.gateway.config.GatewayOptions;
import io.switchboard.gateway.plane.EventBusRequestPlane;
import io.switchboard.gateway.plane.GrpcRequestPlane;
import io.switchboard.gateway.plane.RequestPlane;
import io.switchboard.gateway.registry.WorkerState;
import io.switchboard.protocol.Addresses;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GrpcMessages;
import io.switchboard.protocol.ModelCatalog;
import io.switchboard.protocol.ModelCommand;
import io.switchboard.protocol.ModelEntry;
import io.switchboard.protocol.PlaneMessageLimit;
import io.switchboard.protocol.WorkerDescriptor;
import io.switchboard.protocol.grpc.ModelControlReply;
import io.switchboard.protocol.grpc.WorkerPlaneGrpcService;
import io.switchboard.runtime.tls.PeerTls;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.server.GrpcServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The gateway's load commands go on its request plane: over the event bus to the worker's models address, and over
 * gRPC with the ControlModel call to the worker's node. A fake worker listens on both and answers each command as a
 * real one does (the model's entry once loaded, or its typed failure); it records on which plane each came, so a
 * command that went on the wrong plane fails the test.
 */
class ModelLoadsOnBothPlanesTest {

  private static final String BROKEN_CAUSE = "model 'broken' failed to load on worker w-1: llama-server exited with "
      + "status 1 while loading it: gguf_init_from_file_impl: failed to read magic";

  private Vertx vertx;
  private HttpServer grpcServer;
  private RequestPlane plane;
  /** "plane:model:placement" for every command the fake worker received. */
  private final List<String> received = new CopyOnWriteArrayList<>();

  @BeforeEach
  void startWorker() throws Exception {
    vertx = Vertx.vertx();
    vertx.eventBus().<JsonObject>consumer(Addresses.workerModels("w-1"), message -> {
      ModelCommand command = ModelCommand.fromJson(message.body());
      received.add("eventbus:" + command.model() + ":" + command.placement());
      GenerateError failure = failureFor(command.model());
      if (failure != null) {
        message.fail(failure.code().wireCode(), failure.toJson().encode());
      } else {
        message.reply(loaded(command.model()).toJson());
      }
    });
    GrpcServer grpc = GrpcServer.server(vertx);
    grpc.callHandler(WorkerPlaneGrpcService.ControlModel, call -> call.handler(message -> {
      ModelCommand command = GrpcMessages.fromModelControlCall(message);
      received.add("grpc:" + command.model() + ":" + command.placement() + ":" + message.getWorkerId());
      GenerateError failure = failureFor(command.model());
      if ("slow".equals(command.model())) {
        return;
      }
      call.response().end(failure != null
          ? ModelControlReply.newBuilder().setFailure(GrpcMessages.toFailure(failure)).build()
          : ModelControlReply.newBuilder().setModel(GrpcMessages.toModelInfo(loaded(command.model()))).build());
    }));
    grpcServer = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0)).requestHandler(grpc)
        .listen().await(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    if (plane != null) {
      plane.stop().await(10, TimeUnit.SECONDS);
    }
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private static GenerateError failureFor(String model) {
    return "broken".equals(model) ? GenerateError.of(GenerateError.Code.ENGINE_FAILED, BROKEN_CAUSE, "w-1") : null;
  }

  private static ModelEntry loaded(String model) {
    return new ModelEntry(model, 1234, ModelEntry.LOADED, null, List.of(), 0);
  }

  private WorkerState worker() {
    ModelCatalog catalog = new ModelCatalog(List.of(new ModelEntry("tiny", 1234, ModelEntry.UNLOADED, null, List.of(),
        0)), 1);
    return new WorkerState(new WorkerDescriptor("w-1", "node-1", "", "llamacpp", 2, 4096, new JsonObject()
        .put(WorkerDescriptor.ENDPOINT_GRPC, "127.0.0.1:" + grpcServer.actualPort()), List.of(), catalog), null, 10,
        null);
  }

  private ModelPlacement.Loader loaderOn(RequestPlane chosen) throws Exception {
    plane = chosen;
    plane.start().await(10, TimeUnit.SECONDS);
    return ModelPlacement.overPlane(vertx, plane, 1500);
  }

  @Test
  void onTheGrpcPlaneALoadGoesWithTheControlModelCallMarkedAsPlacement() throws Exception {
    ModelPlacement.Loader loader = loaderOn(new GrpcRequestPlane(vertx, new GatewayOptions(), PeerTls.NONE,
        PlaneMessageLimit.ofDefault()));

    ModelEntry entry = loader.load(worker(), "tiny").await(10, TimeUnit.SECONDS);

    assertThat(entry.loaded()).isTrue();
    assertThat(received).containsExactly("grpc:tiny:true:w-1");

    Throwable failed = catchThrowable(() -> loader.load(worker(), "broken").await(10, TimeUnit.SECONDS));
    assertThat(failed).isInstanceOf(ModelPlacement.LoadFailedException.class);
    GenerateError error = ((ModelPlacement.LoadFailedException) failed).error();
    assertThat(error.code()).isEqualTo(GenerateError.Code.ENGINE_FAILED);
    assertThat(error.message()).isEqualTo(BROKEN_CAUSE);
    assertThat(error.workerId()).isEqualTo("w-1");

    // A worker that does not answer within the load timeout: the error says so, naming the worker and the model.
    Throwable slow = catchThrowable(() -> loader.load(worker(), "slow").await(10, TimeUnit.SECONDS));
    GenerateError timedOut = ((ModelPlacement.LoadFailedException) slow).error();
    assertThat(timedOut.code()).isEqualTo(GenerateError.Code.DEADLINE_EXCEEDED);
    assertThat(timedOut.message()).contains("worker w-1").contains("model 'slow'").contains("1500 ms");
    assertThat(received).allMatch(command -> command.startsWith("grpc:"));
  }

  @Test
  void onTheEventBusPlaneALoadGoesToTheWorkersModelsAddressMarkedAsPlacement() throws Exception {
    ModelPlacement.Loader loader = loaderOn(new EventBusRequestPlane(vertx, new GatewayOptions(), "gw-1",
        PlaneMessageLimit.ofDefault()));

    assertThat(loader.load(worker(), "tiny").await(10, TimeUnit.SECONDS).loaded()).isTrue();
    Throwable failed = catchThrowable(() -> loader.load(worker(), "broken").await(10, TimeUnit.SECONDS));
    assertThat(((ModelPlacement.LoadFailedException) failed).error().message()).isEqualTo(BROKEN_CAUSE);

    assertThat(received).containsExactly("eventbus:tiny:true", "eventbus:broken:true");
  }

  @Test
  void onTheGrpcPlaneAWorkerWithoutAGrpcEndpointIsNamedInTheError() throws Exception {
    ModelPlacement.Loader loader = loaderOn(new GrpcRequestPlane(vertx, new GatewayOptions(), PeerTls.NONE,
        PlaneMessageLimit.ofDefault()));
    WorkerState noEndpoint = new WorkerState(new WorkerDescriptor("w-2", "node-2", "", "llamacpp", 2, 4096,
        new JsonObject(), List.of(), ModelCatalog.EMPTY), null, 10, null);

    Throwable failed = catchThrowable(() -> loader.load(noEndpoint, "tiny").await(10, TimeUnit.SECONDS));

    assertThat(((ModelPlacement.LoadFailedException) failed).error().message())
        .contains("worker w-2 on node node-2 publishes no usable gRPC endpoint");
    assertThat(received).isEmpty();
  }
}
