package io.switchboard.worker.engine;

import io.vertx.core.Context;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Runs test code on a Vert.x context (engines and the runner are event-loop confined) and waits for it. */
public final class OnContext {

  private OnContext() {
  }

  public static <T> T call(Context context, Supplier<T> action) {
    CompletableFuture<T> result = new CompletableFuture<>();
    context.runOnContext(v -> {
      try {
        result.complete(action.get());
      } catch (Throwable t) {
        result.completeExceptionally(t);
      }
    });
    try {
      return result.get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      if (e.getCause() instanceof Error error) {
        throw error;
      }
      throw new AssertionError(e.getCause());
    } catch (Exception e) {
      throw new AssertionError("action on the context did not finish within 10 s", e);
    }
  }

  public static void run(Context context, Runnable action) {
    call(context, () -> {
      action.run();
      return null;
    });
  }
}
