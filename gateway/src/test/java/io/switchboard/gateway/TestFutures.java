package io.switchboard.gateway;

import io.vertx.core.Future;

import java.util.concurrent.TimeUnit;

/** Blocks a test thread on a Vert.x future (deployments, closing Vert.x), failing after 30 s. */
public final class TestFutures {

  private TestFutures() {
  }

  public static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
