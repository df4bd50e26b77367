package io.switchboard.worker.engine;

import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.ModelCatalog;
import io.switchboard.protocol.ModelEntry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * An inference backend as a worker sees it: mocker, any OpenAI-compatible server, a supervised llama-server.
 * Every method is called on the worker verticle's event loop and must not block it.
 */
public interface Engine {

  /** Engine kind as it appears in discovery records and /admin/cluster. */
  String kind();

  /** Prepares the engine (start processes, probe the backend). */
  Future<Void> start();

  /**
   * Starts a generation that writes into {@code sink} and ends it exactly once with {@code end} or
   * {@code fail}. The worker has already admitted the request into a slot. An embedding request
   * ({@link io.switchboard.protocol.RequestKind#EMBEDDING}) ends with one chunk whose extra holds the answer.
   */
  Generation generate(GenerateRequest request, ChunkSink sink);

  /**
   * The model names this engine serves now, when it learns them at run time (an openai engine reads its
   * backend's /v1/models); empty means the one model the worker's options name.
   */
  default List<String> models() {
    return List.of();
  }

  /** The served models that also answer embedding requests. */
  default List<String> embeddingModels() {
    return List.of();
  }

  /**
   * The dialects besides OpenAI chat ({@link io.switchboard.protocol.NativeForm#RESPONSES},
   * {@link io.switchboard.protocol.NativeForm#MESSAGES}) whose requests the engine passes to its backend as the client
   * wrote them; it may learn them at run time (an openai engine probes its backend). A request's native form in
   * another dialect, or on a resumed attempt, is answered from its chat body. Empty by default.
   */
  default List<String> nativeDialects() {
    return List.of();
  }

  /**
   * Null when the engine can take work now; otherwise why not, in an operator's words (its backend is down or
   * restarting). The gateway routes nothing to it meanwhile and shows the reason in /admin/cluster.
   */
  default String unavailableReason() {
    return null;
  }

  /**
   * The models an engine over a model directory can serve, with size and state now; {@link ModelCatalog#EMPTY} for
   * engines that serve fixed models.
   */
  default ModelCatalog catalog() {
    return ModelCatalog.EMPTY;
  }

  /** True when the engine loads and unloads models on demand ({@link #loadModel}, {@link #unloadModel}). */
  default boolean loadsOnDemand() {
    return false;
  }

  /**
   * Loads a model (by name or alias) and completes with its entry once loaded; fails with a
   * {@link ModelControlException} naming the model, the worker and the cause. Concurrent loads of one model make one.
   */
  default Future<ModelEntry> loadModel(String model) {
    return Future.failedFuture(new IllegalStateException(kind() + " engines load no models on demand"));
  }

  /**
   * {@link #loadModel(String)}, saying whether the load is an operator's ({@code retryNow}: it tries now even while
   * the model backs off after a failed load) or a gateway's placement for a request (it respects the back-off).
   */
  default Future<ModelEntry> loadModel(String model, boolean retryNow) {
    return loadModel(model);
  }

  /** Unloads a model with no request in flight and completes with its entry once unloaded. */
  default Future<ModelEntry> unloadModel(String model) {
    return Future.failedFuture(new IllegalStateException(kind() + " engines load no models on demand"));
  }

  /** What the engine wants operators to see in /admin/cluster (processes, pools); empty by default. */
  default JsonObject status() {
    return new JsonObject();
  }

  /** Releases what {@link #start()} acquired. */
  Future<Void> stop();
}
