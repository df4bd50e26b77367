package io.switchboard.protocol;

import io.switchboard.protocol.grpc.Accepted;
import io.switchboard.protocol.grpc.Chunk;
import io.switchboard.protocol.grpc.Failure;
import io.switchboard.protocol.grpc.GenerateCall;
import io.switchboard.protocol.grpc.GenerateEvent;
import io.switchboard.protocol.grpc.LibraryRpcPool;
import io.switchboard.protocol.grpc.ModelControlCall;
import io.switchboard.protocol.grpc.ModelInfo;
import io.switchboard.protocol.grpc.WorkerHealth;
import io.switchboard.protocol.grpc.Resume;
import io.switchboard.protocol.grpc.Sampling;
import io.switchboard.protocol.grpc.TokenUsage;
import io.switchboard.protocol.grpc.Trace;
import io.vertx.core.json.JsonObject;

import java.util.function.Consumer;

/**
 * The translation between the contract's records and the gRPC plane's messages ({@code worker.proto}), so both
 * planes carry exactly the same information and engines never see which one a request came by.
 */
public final class GrpcMessages {

  private GrpcMessages() {
  }

  public static GenerateCall toCall(String workerId, GenerateRequest request) {
    SamplingParams sampling = request.sampling();
    Sampling.Builder samplingProto = Sampling.newBuilder()
        .setTemperature(sampling.temperature())
        .setTopP(sampling.topP())
        .addAllStop(sampling.stop());
    setIfPresent(sampling.maxTokens(), samplingProto::setMaxTokens);
    setIfPresent(sampling.seed(), samplingProto::setSeed);
    setIfPresent(sampling.tokenCap(), samplingProto::setTokenCap);
    Trace.Builder trace = Trace.newBuilder();
    setIfPresent(request.trace().traceparent(), trace::setTraceparent);
    setIfPresent(request.trace().tracestate(), trace::setTracestate);
    GenerateCall.Builder call = GenerateCall.newBuilder()
        .setWorkerId(workerId)
        .setStreamId(request.streamId())
        .setRequestId(request.requestId())
        .setModel(request.model())
        .setKind(request.kind().wireName())
        // Jackson, not JsonText: a request body is mostly long strings, which Jackson writes faster
        // (load-tests/bin/json-bench, request-20-turns).
        .setBodyJson(request.body().encode())
        .setPrompt(request.prompt())
        .setSampling(samplingProto)
        .setDeadlineEpochMs(request.deadlineEpochMs())
        .setTrace(trace)
        .setResume(Resume.newBuilder().setText(request.resume().text())
            .setCompletionTokens(request.resume().completionTokens()));
    setIfPresent(request.gatewayNodeId(), call::setGatewayNodeId);
    if (request.nativeForm() != null) {
      call.setNativeDialect(request.nativeForm().dialect()).setNativeBodyJson(request.nativeForm().body().encode());
    }
    return call.build();
  }

  /** @throws IllegalArgumentException when the call is malformed (missing ids, unknown kind, body not JSON) */
  public static GenerateRequest fromCall(GenerateCall call) {
    if (call.getStreamId().isEmpty() || call.getRequestId().isEmpty() || call.getModel().isEmpty()) {
      throw new IllegalArgumentException("stream_id, request_id and model are required");
    }
    JsonObject body;
    try {
      body = call.getBodyJson().isEmpty() ? new JsonObject() : new JsonObject(call.getBodyJson());
    } catch (RuntimeException notJson) {
      throw new IllegalArgumentException("body_json is not a JSON object: " + notJson.getMessage());
    }
    NativeForm nativeForm = null;
    if (!call.getNativeDialect().isEmpty()) {
      try {
        nativeForm = new NativeForm(call.getNativeDialect(), new JsonObject(call.getNativeBodyJson()));
      } catch (RuntimeException notJson) {
        throw new IllegalArgumentException("native_body_json is not a JSON object: " + notJson.getMessage());
      }
    }
    Sampling sampling = call.getSampling();
    SamplingParams params = new SamplingParams(
        sampling.hasMaxTokens() ? sampling.getMaxTokens() : null,
        sampling.getTemperature(),
        sampling.getTopP(),
        sampling.getStopList(),
        sampling.hasSeed() ? sampling.getSeed() : null,
        sampling.hasTokenCap() ? sampling.getTokenCap() : null);
    Trace trace = call.getTrace();
    return new GenerateRequest(
        call.getStreamId(),
        call.getRequestId(),
        call.getModel(),
        RequestKind.fromWire(call.getKind()),
        body,
        call.getPrompt(),
        params,
        call.getDeadlineEpochMs(),
        new TraceContext(emptyToNull(trace.getTraceparent()), emptyToNull(trace.getTracestate())),
        new ResumeState(call.getResume().getText(), call.getResume().getCompletionTokens()),
        emptyToNull(call.getGatewayNodeId()),
        "",
        0,
        nativeForm);
  }

  public static GenerateEvent accepted(String workerId) {
    return GenerateEvent.newBuilder().setAccepted(Accepted.newBuilder().setWorkerId(workerId)).build();
  }

  public static GenerateEvent refused(GenerateError error) {
    return GenerateEvent.newBuilder().setRefused(toFailure(error)).build();
  }

  public static GenerateEvent chunk(StreamChunk chunk) {
    Chunk.Builder proto = Chunk.newBuilder().setSeq(chunk.seq()).setText(chunk.text()).setTokens(chunk.tokens());
    if (chunk.finishReason() != null) {
      proto.setFinishReason(chunk.finishReason());
    }
    if (chunk.usage() != null) {
      proto.setUsage(TokenUsage.newBuilder().setPromptTokens(chunk.usage().promptTokens())
          .setCompletionTokens(chunk.usage().completionTokens()).setCachedTokens(chunk.usage().cachedTokens()));
    }
    if (chunk.error() != null) {
      proto.setError(toFailure(chunk.error()));
    }
    if (chunk.extra() != null) {
      proto.setExtraJson(chunk.extra().encode());
    }
    return GenerateEvent.newBuilder().setChunk(proto).build();
  }

  public static StreamChunk fromChunk(Chunk chunk) {
    return new StreamChunk(
        chunk.getSeq(),
        chunk.getText(),
        chunk.getTokens(),
        emptyToNull(chunk.getFinishReason()),
        chunk.hasUsage() ? new Usage(chunk.getUsage().getPromptTokens(),
            chunk.getUsage().getCompletionTokens(), chunk.getUsage().getCachedTokens()) : null,
        chunk.hasError() ? fromFailure(chunk.getError()) : null,
        chunk.getExtraJson().isEmpty() ? null : new JsonObject(chunk.getExtraJson()));
  }

  public static Failure toFailure(GenerateError error) {
    Failure.Builder failure = Failure.newBuilder().setCode(error.code().name()).setMessage(error.message())
        .setRetryable(error.retryable());
    setIfPresent(error.workerId(), failure::setWorkerId);
    setIfPresent(error.param(), failure::setParam);
    return failure.build();
  }

  public static GenerateError fromFailure(Failure failure) {
    GenerateError.Code code;
    try {
      code = GenerateError.Code.valueOf(failure.getCode());
    } catch (IllegalArgumentException unknown) {
      code = GenerateError.Code.ENGINE_FAILED;
    }
    return new GenerateError(code, failure.getMessage(), failure.getRetryable(), emptyToNull(failure.getWorkerId()),
        emptyToNull(failure.getParam()));
  }

  public static ModelInfo toModelInfo(ModelEntry entry) {
    ModelInfo.Builder info = ModelInfo.newBuilder().setName(entry.name()).setSizeBytes(entry.sizeBytes())
        .setState(entry.state()).addAllAliases(entry.aliases()).setInFlight(entry.inFlight());
    setIfPresent(entry.reason(), info::setReason);
    if (entry.retryAtMs() > 0) {
      info.setRetryAtEpochMs(entry.retryAtMs());
    }
    return info.setOverRpc(entry.overRpc()).build();
  }

  public static ModelEntry fromModelInfo(ModelInfo info) {
    return new ModelEntry(info.getName(), info.getSizeBytes(), info.getState().isEmpty() ? ModelEntry.UNLOADED
        : info.getState(), emptyToNull(info.getReason()), info.getAliasesList(), info.getInFlight(),
        info.getOverRpc(), info.getRetryAtEpochMs());
  }

  public static ModelControlCall toModelControlCall(String workerId, ModelCommand command) {
    return ModelControlCall.newBuilder().setWorkerId(workerId).setAction(command.action().name().toLowerCase())
        .setModel(command.model()).setPlacement(command.placement()).build();
  }

  /** @throws IllegalArgumentException when the action or the model is missing, or the action unknown */
  public static ModelCommand fromModelControlCall(ModelControlCall call) {
    return ModelCommand.fromJson(new JsonObject().put("action", emptyToNull(call.getAction()))
        .put("model", emptyToNull(call.getModel())).put("placement", call.getPlacement()));
  }

  /** The worker's catalog as the Health reply's library fields, with its memory (budget, available, rpc pool). */
  public static WorkerHealth.Builder withCatalog(WorkerHealth.Builder health, ModelCatalog catalog) {
    catalog.models().forEach(entry -> health.addLibrary(toModelInfo(entry)));
    health.setLibraryBudgetBytes(catalog.budgetBytes());
    if (catalog.availableBytes() >= 0) {
      health.setLibraryAvailableBytes(catalog.availableBytes());
    }
    if (!RpcPoolRoom.NONE.equals(catalog.rpcPool())) {
      RpcPoolRoom pool = catalog.rpcPool();
      health.setLibraryRpcPool(LibraryRpcPool.newBuilder().setMembers(pool.members())
          .setFreeBytes(pool.freeBytes()).setTotalBytes(pool.totalBytes()));
    }
    return health.setLibraryTotal(catalog.total());
  }

  /**
   * The catalog of a Health reply; its available memory is unknown (-1) when the reply carries none, and it has no
   * rpc pool ({@link RpcPoolRoom#NONE}) when the reply carries none.
   */
  public static ModelCatalog catalogOf(WorkerHealth health) {
    LibraryRpcPool pool = health.getLibraryRpcPool();
    return new ModelCatalog(health.getLibraryList().stream().map(GrpcMessages::fromModelInfo).toList(),
        health.getLibraryTotal(), health.getLibraryBudgetBytes(),
        health.hasLibraryAvailableBytes() ? health.getLibraryAvailableBytes() : -1,
        health.hasLibraryRpcPool() ? new RpcPoolRoom(pool.getMembers(), pool.getFreeBytes(), pool.getTotalBytes())
            : RpcPoolRoom.NONE);
  }

  /**
   * Sets a field only when the record has it: protobuf's setters refuse null, and an unset field is how a message says
   * "none". Per request, not per chunk ({@link #chunk} tests its fields itself, creating no setter object per token).
   */
  private static <T> void setIfPresent(T value, Consumer<T> setter) {
    if (value != null) {
      setter.accept(value);
    }
  }

  private static String emptyToNull(String value) {
    return value == null || value.isEmpty() ? null : value;
  }
}
