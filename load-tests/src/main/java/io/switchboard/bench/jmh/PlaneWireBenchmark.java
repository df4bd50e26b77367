package io.switchboard.bench.jmh;

import io.switchboard.gateway.api.CompletionRequest;
import io.switchboard.gateway.api.RequestValidator;
import io.switchboard.protocol.Addresses;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.GenerateRequestCodec;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.ResumeState;
import io.switchboard.protocol.StreamChunk;
import io.switchboard.protocol.StreamControl;
import io.switchboard.protocol.StreamControlCodec;
import io.switchboard.protocol.TaggedChunk;
import io.switchboard.protocol.TaggedChunkCodec;
import io.switchboard.protocol.TraceContext;
import io.switchboard.protocol.Usage;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.eventbus.impl.codecs.JsonObjectMessageCodec;
import io.vertx.core.json.JsonObject;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

import java.util.function.Function;

/**
 * One message of the event-bus request plane between two nodes, written by the sender and read by the receiver:
 * the binary plane format ({@code PlaneWire}'s codecs: {@link GenerateRequestCodec}, {@link TaggedChunkCodec},
 * {@link StreamControlCodec}) against the JSON form it replaced, the record's {@code toJson} sent through Vert.x's
 * JSON object codec (Jackson at both ends) and read back with {@code fromJson}. Both give back a message equal to the
 * one sent (checked in the set-up; PlaneWireTest is the round-trip test, EventBusPlaneWireClusterTest the one across
 * two nodes). Messages: the generate request of a streamed chat (the client's body, its prompt and sampling, a trace
 * context), a chunk of one token and of twenty, the last chunk (finish reason and usage), a grant of credits.
 *
 * <p>Run: {@code load-tests/bin/wire-bench}.
 */
public class PlaneWireBenchmark extends FastPathBenchmark {

  @Param({"request", "chunk-one-token", "chunk-20-tokens", "chunk-last", "credits"})
  public String message;

  private static final String STREAM_ID = "5f0e2b7c9a3d41e8b6c2f0a9d3e7b1c4";
  private static final JsonObjectMessageCodec JSON = new JsonObjectMessageCodec();

  private Object sent;
  private MessageCodec<Object, Object> binary;
  private Function<Object, JsonObject> toJson;
  private Function<JsonObject, Object> fromJson;

  @Setup
  public void setUp() {
    switch (message) {
      case "request" -> {
        CompletionRequest chat = new RequestValidator().validate(RequestKind.CHAT,
            SampleChat.requestBody().toBuffer());
        sent = new GenerateRequest(STREAM_ID, "69477e7a6f8244b827f26bfbbb16dd5c", chat.model(), chat.kind(),
            chat.body(), chat.prompt(), chat.sampling(), 1796532800000L,
            new TraceContext("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", null), ResumeState.EMPTY,
            "3c2a1f6e-8d4b-4e0a-9f7c-2b5d8e1a6c90", Addresses.gatewayStreams("b7e4a9c2"), 64);
        use(new GenerateRequestCodec(), request -> ((GenerateRequest) request).toJson(), GenerateRequest::fromJson);
      }
      case "chunk-one-token" -> chunk(StreamChunk.delta(7, SampleChat.ONE_TOKEN, 1));
      case "chunk-20-tokens" -> chunk(StreamChunk.delta(7, SampleChat.TWENTY_TOKENS, 20));
      case "chunk-last" -> chunk(StreamChunk.last(21, "", 0, "stop", new Usage(41, 20, 32)));
      case "credits" -> {
        sent = StreamControl.credits(STREAM_ID, 32);
        use(new StreamControlCodec(), control -> ((StreamControl) control).toJson(), StreamControl::fromJson);
      }
      default -> throw new IllegalArgumentException("unknown message " + message);
    }
    SameOutput.require(message + " (JSON form sent and read back)", sent, jackson());
    SameOutput.require(message, jackson(), fast());
  }

  private void chunk(StreamChunk chunk) {
    sent = new TaggedChunk(STREAM_ID, chunk);
    // As the worker sends a chunk to an older gateway, and that gateway reads it (EventBusRequestPlane).
    use(new TaggedChunkCodec(), tagged -> ((TaggedChunk) tagged).chunk().toJson(STREAM_ID),
        json -> new TaggedChunk(json.getString(StreamControl.STREAM_ID), StreamChunk.fromJson(json)));
  }

  @SuppressWarnings("unchecked")
  private void use(MessageCodec<?, ?> codec, Function<Object, JsonObject> toJson,
                   Function<JsonObject, Object> fromJson) {
    this.binary = (MessageCodec<Object, Object>) codec;
    this.toJson = toJson;
    this.fromJson = fromJson;
  }

  @Benchmark
  public Object jackson() {
    Buffer frame = Buffer.buffer(512);
    JSON.encodeToWire(frame, toJson.apply(sent));
    return fromJson.apply(JSON.decodeFromWire(0, frame));
  }

  @Benchmark
  public Object fast() {
    Buffer frame = Buffer.buffer(512);
    binary.encodeToWire(frame, sent);
    return binary.decodeFromWire(0, frame);
  }
}
