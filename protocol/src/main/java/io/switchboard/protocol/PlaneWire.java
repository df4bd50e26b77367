package io.switchboard.protocol;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;

import java.util.function.Function;

/**
 * The binary format of the event-bus request plane between nodes, version {@value #VERSION} (the JSON messages the
 * plane started with are version {@value #JSON_VERSION}). Instead of Jackson at both ends of every message, these
 * codecs write the envelope and the common chunk as fixed-width numbers and length-prefixed strings, and only nested
 * client or backend JSON as text (what it saves: docs/performance.md, "Issue 30").
 *
 * <p>Every message, in every version, begins the same way, so a node can name the stream of a message it cannot
 * read: {@code int length} (of what follows; the event bus's frame), {@code byte version}, {@code byte kind}
 * ({@link PlaneMessageKind}), {@code string streamId}. The fields of each kind are in its codec
 * ({@link GenerateRequestCodec}, {@link TaggedChunkCodec}, {@link StreamControlCodec}); a nullable field is absent
 * when null, and whether it follows is a bit of a presence byte or int earlier in the message
 * ({@link PlaneWirePresence}): bit i for the i-th nullable field of that group, in the order the codec writes them.
 *
 * <p>Negotiation: a worker publishes the newest version it reads in its endpoints
 * ({@link WorkerDescriptor#ENDPOINT_EVENTBUS_WIRE}); a gateway sends this format only to a worker that publishes at
 * least {@value #VERSION}, JSON to any other (an older worker), and the worker answers in the format the request
 * came in. Each side reads both. A later version must keep reading this one.
 */
public final class PlaneWire {

  /** The version this node writes, and the only binary one it reads. */
  public static final int VERSION = 2;
  /** The plane's JSON messages: what a worker publishing no version reads. */
  public static final int JSON_VERSION = 1;

  private static final String REGISTERED_MAP = "switchboard.plane-wire";

  private PlaneWire() {
  }

  /**
   * Registers the plane's codecs as the default codecs of their messages on this Vert.x instance, once however many
   * gateways and workers it runs (registering one twice throws). Call before the first message is sent or read.
   */
  public static void registerCodecs(Vertx vertx) {
    synchronized (PlaneWire.class) {
      if (vertx.sharedData().<String, Boolean>getLocalMap(REGISTERED_MAP).putIfAbsent("codecs", Boolean.TRUE) != null) {
        return;
      }
      EventBus eventBus = vertx.eventBus();
      eventBus.registerDefaultCodec(GenerateRequest.class, new GenerateRequestCodec());
      eventBus.registerDefaultCodec(TaggedChunk.class, new TaggedChunkCodec());
      eventBus.registerDefaultCodec(StreamControl.class, new StreamControlCodec());
    }
  }

  /**
   * A plane message's body as {@code type}: decoded from this format, or read by {@code fromJson} from the JSON an
   * older node sends. Every consumer of the plane reads its messages through here.
   *
   * @throws PlaneWireException       when a binary message cannot be read (Vert.x decodes it when its body is first
   *                                  asked for)
   * @throws IllegalArgumentException when the body is neither, or its JSON is not a {@code what}
   */
  public static <T> T body(Message<Object> message, Class<T> type, Function<JsonObject, T> fromJson, String what) {
    Object body = message.body();
    if (type.isInstance(body)) {
      return type.cast(body);
    }
    if (body instanceof JsonObject json) {
      return fromJson.apply(json);
    }
    throw new IllegalArgumentException("a " + what + " is a JSON object or a binary plane message, not "
        + (body == null ? "null" : body.getClass().getSimpleName()));
  }

  /** Whether a worker that publishes {@code descriptor} reads this format. */
  public static boolean readBy(WorkerDescriptor descriptor) {
    return descriptor.eventBusWireVersion() >= VERSION;
  }
}
