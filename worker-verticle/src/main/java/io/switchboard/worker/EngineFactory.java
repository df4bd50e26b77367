package io.switchboard.worker;

import io.switchboard.protocol.DiscoveryTrust;
import io.switchboard.worker.engine.Engine;
import io.switchboard.worker.llamacpp.LlamaCppEngine;
import io.switchboard.worker.llamacpp.LlamaCppLibraryEngine;
import io.switchboard.worker.mocker.MockerEngine;
import io.switchboard.worker.openai.OpenAiEngine;
import io.vertx.core.Vertx;

/**
 * Makes the engine a worker's options name. It sits beside {@link WorkerOptions}, above the engine packages, so
 * the engine interface ({@code worker.engine}) does not depend on the engines that implement it.
 */
public final class EngineFactory {

  private EngineFactory() {
  }

  /** @param trust which rpc-server records a llamacpp engine may use */
  public static Engine create(Vertx vertx, WorkerOptions options, String workerId, DiscoveryTrust trust) {
    return switch (options.getEngine()) {
      case MockerEngine.KIND -> new MockerEngine(vertx, options.getMocker(), workerId, options.getContextLength(),
          options.getModel());
      case LlamaCppEngine.KIND -> options.getLlamacpp().servesDirectory()
          ? new LlamaCppLibraryEngine(vertx, options.getLlamacpp(), workerId, options.getSlots(), trust)
          : new LlamaCppEngine(vertx, options.getLlamacpp(), workerId, options.getSlots(), trust);
      case OpenAiEngine.KIND -> new OpenAiEngine(vertx, options.getOpenai(), workerId, options.getSlots());
      default -> throw new IllegalArgumentException("unknown engine '" + options.getEngine() + "' (allowed: "
          + WorkerOptions.ENGINES + ")");
    };
  }
}
