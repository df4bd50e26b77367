package io.switchboard.gateway.routing;

import io.switchboard.protocol.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;

import java.util.function.IntConsumer;

/**
 * Lets the gateways of a cluster share what their prefix-aware policies learn: after each decision a gateway
 * publishes the prompt blocks that were new for the chosen worker (8 bytes each; a follow-up turn usually adds
 * only a few), and every other gateway records them in its own index. Without it, a session whose turns reach
 * different gateways is routed by load on each gateway's first sight of it.
 */
public final class PrefixSharing implements PrefixAwarePolicy.Listener {

  private final Vertx vertx;
  private final String gatewayId;
  private final IntConsumer sentBytes;
  private final IntConsumer receivedBytes;
  private MessageConsumer<JsonObject> consumer;

  public PrefixSharing(Vertx vertx, String gatewayId, IntConsumer sentBytes, IntConsumer receivedBytes) {
    this.vertx = vertx;
    this.gatewayId = gatewayId;
    this.sentBytes = sentBytes;
    this.receivedBytes = receivedBytes;
  }

  /** Starts applying other gateways' decisions to {@code router}. */
  public Future<Void> start(WorkerRouter router) {
    consumer = vertx.eventBus().consumer(Addresses.ROUTER_PREFIXES, message -> {
      JsonObject body = message.body();
      if (gatewayId.equals(body.getString("gateway"))) {
        return;
      }
      byte[] bytes = body.getBinary("blocks");
      if (bytes == null || bytes.length % Long.BYTES != 0 || body.getString("model") == null
          || body.getString("worker") == null) {
        return;
      }
      Buffer buffer = Buffer.buffer(bytes);
      long[] blocks = new long[bytes.length / Long.BYTES];
      for (int i = 0; i < blocks.length; i++) {
        blocks[i] = buffer.getLong(i * Long.BYTES);
      }
      receivedBytes.accept(bytes.length);
      router.learn(body.getString("model"), body.getString("worker"), blocks);
    });
    return consumer.completion();
  }

  @Override
  public void recorded(String model, String workerId, long[] newBlocks) {
    Buffer buffer = Buffer.buffer(newBlocks.length * Long.BYTES);
    for (long block : newBlocks) {
      buffer.appendLong(block);
    }
    vertx.eventBus().publish(Addresses.ROUTER_PREFIXES, new JsonObject()
        .put("gateway", gatewayId)
        .put("model", model)
        .put("worker", workerId)
        .put("blocks", buffer.getBytes()));
    sentBytes.accept(buffer.length());
  }

  public Future<Void> stop() {
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }
}
