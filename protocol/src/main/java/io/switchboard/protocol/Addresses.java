package io.switchboard.protocol;

/**
 * Event-bus addresses of the gateway-worker contract.
 *
 * <p>A generation over the event bus is a small stream protocol, not one request/reply, because a clustered
 * reply times out after 30 s and a long answer needs flow control:
 * <ol>
 *   <li>each gateway instance registers one consumer on {@link #gatewayStreams(String)} at start and files every
 *       stream it opens there under a fresh stream id;</li>
 *   <li>it sends a {@link GenerateRequest} to {@link #workerGenerate(String)} with {@code request()}; the worker
 *       replies at once with an acceptance (or fails the reply with a {@link GenerateError});</li>
 *   <li>the worker sends {@link StreamChunk}s, tagged with the stream id, to the request's reply address, never more than the credits the gateway
 *       granted (the request's initial credits plus every {@link StreamControl#credits(String, int)});</li>
 *   <li>the last message is a chunk with a finish reason, or an error;</li>
 *   <li>the gateway may send {@link StreamControl#cancel(String, String)} to {@link #workerControl(String)}
 *       at any time; the worker stops generating.</li>
 * </ol>
 */
public final class Addresses {

  /** Cluster-wide publish address of every worker's periodic {@link LoadReport}. */
  public static final String LOAD_REPORTS = "switchboard.worker.load";

  /** Cluster-wide publish address of every gateway's periodic {@link GatewayReport}. */
  public static final String GATEWAY_REPORTS = "switchboard.gateway.reports";

  /**
   * Cluster-wide publish address where prefix-aware gateways tell each other which prompt prefix blocks they
   * sent to which worker: {@code {"gateway","model","worker","blocks": base64 of big-endian 64-bit hashes}}.
   */
  public static final String ROUTER_PREFIXES = "switchboard.router.prefixes";

  /**
   * Local (non-clustered) address on each node where the launcher publishes the id of a cluster member that
   * left or crashed, so gateways fail streams bound to it and workers cancel work for it.
   */
  public static final String MEMBER_LEFT_LOCAL = "switchboard.local.member-left";

  /**
   * Local (non-clustered) address on each node where the launcher tells when this node merges into another cluster
   * (a network partition healed, or a restarted node found the running cluster): {@link #MERGE_STARTED}, then
   * {@link #MERGE_ENDED}. A merge can drop the records the node had published, so they are checked once it ends.
   */
  public static final String CLUSTER_MERGE_LOCAL = "switchboard.local.cluster-merge";
  public static final String MERGE_STARTED = "started";
  public static final String MERGE_ENDED = "ended";

  private Addresses() {
  }

  public static String workerGenerate(String workerId) {
    return "switchboard.worker." + workerId + ".generate";
  }

  public static String workerControl(String workerId) {
    return "switchboard.worker." + workerId + ".control";
  }

  /**
   * Where an admin API asks a worker to drain or undrain: a request of {@link WorkerAdminCommand} JSON,
   * answered with the worker's state ({@code workerId}, {@code drained}, {@code openStreams}).
   */
  public static String workerAdmin(String workerId) {
    return "switchboard.worker." + workerId + ".admin";
  }

  /**
   * Where a gateway asks a worker with a model directory to load or unload a model: a request of
   * {@link ModelCommand} JSON, answered with the model's {@link ModelEntry} JSON once it is loaded (or unloaded),
   * or failed with a {@link GenerateError} (its wire code, its JSON as the message). A worker without a model
   * directory fails it with {@code MODEL_NOT_SERVED}.
   */
  public static String workerModels(String workerId) {
    return "switchboard.worker." + workerId + ".models";
  }

  public static String gatewayStreams(String gatewayInstanceId) {
    return "switchboard.gateway." + gatewayInstanceId + ".streams";
  }
}
