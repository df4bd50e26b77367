package io.switchboard.worker.plane;

import io.switchboard.worker.runner.GenerationRunner;
import io.vertx.core.Context;

/**
 * A worker as the node's shared {@link GrpcPlaneServer} sees it: its runner may only be used on its own
 * context, so the server hands every call over to {@code context}.
 */
public record LocalWorker(String workerId, String model, Context context, GenerationRunner runner) {
}
