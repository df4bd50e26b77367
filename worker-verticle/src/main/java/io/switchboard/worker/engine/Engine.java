package io.switchboard.worker.engine;

import io.switchboard.protocol.GenerateRequest;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

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
   * {@code fail}. The worker has already admitted the request into a slot.
   */
  Generation generate(GenerateRequest request, ChunkSink sink);

  /** What the engine wants operators to see in /admin/cluster (processes, pools); empty by default. */
  default JsonObject status() {
    return new JsonObject();
  }

  /** Releases what {@link #start()} acquired. */
  Future<Void> stop();
}
