package io.switchboard.protocol;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;

/**
 * The workers a gateway on the same node (the same Vert.x instance) calls directly instead of over the event
 * bus. Each side hands every call over to the other's context with {@link Context#runOnContext}, so neither
 * ever runs on the other's context and the order of calls is kept; what is saved is the event bus's work per
 * message (a reply handler and its timeout for each request, a delivery context and codec for each chunk;
 * docs/performance.md has the measurement). Workers on other nodes are still reached over their plane.
 *
 * <p>Kept in the node's {@link LocalMap} named {@value #MAP}: a worker is listed while it accepts requests.
 */
public final class SameNodeWorkers {

  static final String MAP = "switchboard.same-node-workers";

  private SameNodeWorkers() {
  }

  /**
   * A worker as a gateway on its node calls it. Callable from any context; the worker runs each call on its own,
   * in the order they were made.
   */
  public interface Worker extends Shareable {

    /**
     * Offers {@code request}. The worker answers on {@code gatewayContext}: {@link Stream#accepted()} or
     * {@link Stream#refused}, then (if accepted) the chunks, the last one final.
     */
    void open(GenerateRequest request, Context gatewayContext, Stream gateway);

    /** The gateway took chunks and grants room for {@code credits} more. */
    void grant(String streamId, int credits);

    /** Stops the generation (best effort: it may have ended already). */
    void cancel(String streamId, String reason);
  }

  /** The gateway's end of one stream. The worker calls it only on the gateway's context. */
  public interface Stream {

    void accepted();

    void refused(GenerateError why);

    void chunk(StreamChunk chunk);
  }

  /** This node's directory; look it up once and keep it. */
  public static LocalMap<String, Worker> of(Vertx vertx) {
    return vertx.sharedData().getLocalMap(MAP);
  }

  public static void register(Vertx vertx, String workerId, Worker worker) {
    of(vertx).put(workerId, worker);
  }

  public static void unregister(Vertx vertx, String workerId) {
    of(vertx).remove(workerId);
  }
}
