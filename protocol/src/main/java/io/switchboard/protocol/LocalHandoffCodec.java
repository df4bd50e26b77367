package io.switchboard.protocol;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;

/**
 * Event-bus codec for a message to a consumer on the same node: the consumer gets the sender's object itself
 * (a {@link GenerateRequest}, a {@link LocalChunk}, a JsonObject) instead of its JSON form or the deep copy
 * Vert.x's JSON codec makes on every local delivery (a copy per stream chunk was about a third of a worker's
 * event-loop time; building and reading the JSON form, a twentieth of the node's). The sender builds the object
 * for that one message and never touches it again. Only sent with local-only delivery ({@link #localDelivery()}),
 * so it never meets the wire and nodes of other versions need not know it; a JsonObject would still cross it.
 */
public final class LocalHandoffCodec implements MessageCodec<Object, Object> {

  public static final String NAME = "switchboard-local-handoff";

  /** Registers the codec on this event bus once; later calls (another verticle of the node) do nothing. */
  public static void registerOn(EventBus eventBus) {
    try {
      eventBus.registerCodec(new LocalHandoffCodec());
    } catch (IllegalStateException alreadyRegistered) {
      // another verticle of this node registered it first
    }
  }

  /** Delivery to a consumer on this node only, handing the object over without a copy. */
  public static DeliveryOptions localDelivery() {
    return new DeliveryOptions().setLocalOnly(true).setCodecName(NAME);
  }

  @Override
  public void encodeToWire(Buffer buffer, Object message) {
    if (!(message instanceof JsonObject json)) {
      throw new IllegalStateException("a " + message.getClass().getSimpleName() + " handed over on the node "
          + "cannot leave it; send its JSON form to another node");
    }
    Buffer encoded = json.toBuffer();
    buffer.appendInt(encoded.length());
    buffer.appendBuffer(encoded);
  }

  @Override
  public Object decodeFromWire(int pos, Buffer buffer) {
    int length = buffer.getInt(pos);
    return new JsonObject(buffer.slice(pos + 4, pos + 4 + length));
  }

  @Override
  public Object transform(Object message) {
    return message;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
