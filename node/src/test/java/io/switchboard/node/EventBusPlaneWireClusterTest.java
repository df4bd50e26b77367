package io.switchboard.node;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.gateway.config.GatewayOptions;
import io.switchboard.gateway.dialect.responses.store.ResponseStoreOptions;
import io.switchboard.gateway.plane.ChunkStream;
import io.switchboard.gateway.plane.EventBusRequestPlane;
import io.switchboard.gateway.registry.WorkerState;
import io.switchboard.protocol.Addresses;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.GenerateRequestCodec;
import io.switchboard.protocol.PlaneMessageLimit;
import io.switchboard.protocol.PlaneWire;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.SamplingParams;
import io.switchboard.protocol.StreamChunk;
import io.switchboard.protocol.StreamControl;
import io.switchboard.protocol.TaggedChunk;
import io.switchboard.protocol.TaggedChunkCodec;
import io.switchboard.protocol.WorkerDescriptor;
import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.FreePorts;
import io.switchboard.worker.WorkerOptions;
import io.switchboard.worker.WorkerVerticle;
import io.switchboard.worker.mocker.MockerOptions;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.transport.Transport;
import io.vertx.servicediscovery.Record;
import io.vertx.servicediscovery.ServiceDiscovery;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static java.time.Duration.ofSeconds;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The event-bus plane between two clustered nodes (Hazelcast on loopback, the event bus over TCP, so every message is
 * encoded and decoded): a gateway and a worker of this version talk the binary format; a gateway that sees a worker
 * record without the capability (an older worker) sends JSON and gets JSON back; a worker answers a JSON request (an
 * older gateway) in JSON; and a binary message a node cannot read is refused or ends its stream, the node serving on.
 */
class EventBusPlaneWireClusterTest {

  private static final String WORKER = "wire-w";
  private static final String MODEL = "mock-llm";
  private static final int TOKENS = 40;

  private static ClusteredVertxFactory.ClusteredVertx gatewayNode;
  private static ClusteredVertxFactory.ClusteredVertx workerNode;
  private static Context gatewayContext;
  private static EventBusRequestPlane plane;
  /**
   * What each node received, by stream id: "generate:GenerateRequest", "chunk:JsonObject", ... (the address's last
   * part and the class of the body as the receiver read it); "unreadable" holds the addresses of unreadable ones.
   */
  private static final Map<String, List<String>> received = new ConcurrentHashMap<>();

  @BeforeAll
  static void startTwoNodes() throws Exception {
    int port = FreePorts.any();
    ClusterOptions cluster = new ClusterOptions().setName("wire-" + UUID.randomUUID().toString().substring(0, 8))
        .setPort(port).setMembers(List.of("127.0.0.1:" + port, "127.0.0.1:" + (port + 1)));
    gatewayNode = ClusteredVertxFactory.create(cluster, new ResponseStoreOptions(), Transport.NIO, 1,
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)).await(60, SECONDS);
    workerNode = ClusteredVertxFactory.create(cluster, new ResponseStoreOptions(), Transport.NIO, 1,
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)).await(60, SECONDS);
    assertThat(gatewayNode.clusterManager().getNodes()).as("both nodes in one cluster").hasSize(2);
    recordBodies(gatewayNode.vertx());
    recordBodies(workerNode.vertx());

    MockerOptions instant = new MockerOptions().setPrefillTokensPerSecond(0).setDecodeTokensPerSecond(0)
        .setMinAnswerTokens(TOKENS);
    workerNode.vertx().deployVerticle(new WorkerVerticle(new WorkerOptions().setId(WORKER).setModel(MODEL)
        .setMocker(instant), workerNode.clusterManager().getNodeId())).await(60, SECONDS);

    gatewayContext = gatewayNode.vertx().getOrCreateContext();
    plane = new EventBusRequestPlane(gatewayNode.vertx(), new GatewayOptions(), "gw-wire",
        PlaneMessageLimit.ofDefault());
    onGateway(() -> plane.start()).await(60, SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    for (var node : new ClusteredVertxFactory.ClusteredVertx[] {gatewayNode, workerNode}) {
      if (node != null) {
        node.close().await(60, SECONDS);
      }
    }
  }

  /** Reads every body a node receives (which decodes a message from the wire) and notes its class by stream. */
  private static void recordBodies(Vertx vertx) {
    vertx.eventBus().addInboundInterceptor(delivery -> {
      String address = delivery.message().address();
      String kind = address.substring(address.lastIndexOf('.') + 1);
      try {
        Object body = delivery.message().body();
        String streamId = body instanceof GenerateRequest request ? request.streamId()
            : body instanceof TaggedChunk chunk ? chunk.streamId()
            : body instanceof StreamControl control ? control.streamId()
            : body instanceof JsonObject json ? json.getString(StreamControl.STREAM_ID)
            : null;
        if (streamId != null) {
          noted(streamId, kind + ":" + body.getClass().getSimpleName());
        }
      } catch (RuntimeException unreadable) {
        noted("unreadable", address);
      }
      delivery.next();
    });
  }

  private static void noted(String key, String what) {
    received.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>()).add(what);
  }

  private static List<String> received(String streamId) {
    return received.getOrDefault(streamId, List.of());
  }

  @Test
  void aWorkerOfThisVersionPublishesTheBinaryFormatAndTalksItWithAGateway() throws Exception {
    WorkerDescriptor published = publishedDescriptor();
    assertThat(published.eventBusWireVersion()).isEqualTo(PlaneWire.VERSION);

    Answer answer = generate(new WorkerState(published, null, 10, null), 4);

    answer.assertComplete();
    assertThat(received(answer.request.streamId())).as("what each side read, decoded")
        .contains("generate:GenerateRequest", "streams:TaggedChunk", "control:StreamControl")
        .allSatisfy(what -> assertThat(what).doesNotContain("JsonObject"));
    assertThat(received(answer.request.streamId())).filteredOn(what -> what.startsWith("streams:"))
        .hasSize(answer.chunks.size());

    // Sent by hand: the acceptance of a binary request is the worker's id (no JSON), every chunk a TaggedChunk.
    String replies = "raw.replies." + UUID.randomUUID();
    List<Object> chunks = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> last = new CompletableFuture<>();
    gatewayNode.vertx().eventBus().consumer(replies, message -> {
      chunks.add(message.body());
      if (message.body() instanceof TaggedChunk tagged && tagged.chunk().isLast()) {
        last.complete(null);
      }
    }).completion().await(60, SECONDS);
    GenerateRequest raw = request("raw-" + UUID.randomUUID(), replies, 64);
    Object reply = gatewayNode.vertx().eventBus().request(Addresses.workerGenerate(WORKER), raw).await(60, SECONDS)
        .body();
    assertThat(reply).isEqualTo(WORKER);
    last.get(30, TimeUnit.SECONDS);
    assertThat(chunks).hasSizeGreaterThan(1).allSatisfy(chunk -> assertThat(chunk).isInstanceOf(TaggedChunk.class));
  }

  @Test
  void aGatewaySendsJsonToAWorkerRecordWithoutTheCapabilityAndGetsJsonBack() throws Exception {
    WorkerDescriptor published = publishedDescriptor();
    JsonObject olderEndpoints = published.endpoints().copy();
    olderEndpoints.remove(WorkerDescriptor.ENDPOINT_EVENTBUS_WIRE);
    WorkerDescriptor older = new WorkerDescriptor(published.workerId(), published.nodeId(), published.model(),
        published.engine(), published.slots(), published.contextLength(), olderEndpoints);

    Answer answer = generate(new WorkerState(older, null, 10, null), 4);

    answer.assertComplete();
    assertThat(received(answer.request.streamId())).as("what each side read: JSON both ways")
        .contains("generate:JsonObject", "streams:JsonObject", "control:JsonObject")
        .allSatisfy(what -> assertThat(what).endsWith(":JsonObject"));
  }

  @Test
  void aWorkerAnswersAJsonRequestOfAnOlderGatewayInJson() throws Exception {
    String replies = "older-gateway.replies." + UUID.randomUUID();
    List<Object> chunks = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> last = new CompletableFuture<>();
    gatewayNode.vertx().eventBus().consumer(replies, message -> {
      chunks.add(message.body());
      if (message.body() instanceof JsonObject json && StreamChunk.fromJson(json).isLast()) {
        last.complete(null);
      }
    }).completion().await(60, SECONDS);
    GenerateRequest request = request("older-" + UUID.randomUUID(), replies, 64);

    Object reply = gatewayNode.vertx().eventBus().request(Addresses.workerGenerate(WORKER), request.toJson(),
        new DeliveryOptions().setSendTimeout(10_000)).await(60, SECONDS).body();

    assertThat(reply).isEqualTo(new JsonObject().put("accepted", true).put("workerId", WORKER));
    last.get(30, TimeUnit.SECONDS);
    assertThat(chunks).hasSizeGreaterThan(1).allSatisfy(chunk -> assertThat(chunk).isInstanceOf(JsonObject.class));
    StreamChunk end = StreamChunk.fromJson((JsonObject) chunks.get(chunks.size() - 1));
    assertThat(end.error()).isNull();
    assertThat(end.usage().completionTokens()).isEqualTo(TOKENS);
    assertThat(((JsonObject) chunks.get(0)).getString(StreamControl.STREAM_ID)).isEqualTo(request.streamId());
  }

  @Test
  void unreadableBinaryMessagesAreRefusedOrEndTheirStreamAndBothNodesServeOn() throws Exception {
    // A foreign node's request of a version this worker does not read, then one cut short: refused as invalid.
    GenerateRequest template = request("rogue-" + UUID.randomUUID(), plane.replyAddress(), 64);
    GenerateRequestCodec requestCodec = new GenerateRequestCodec();
    Buffer wire = Buffer.buffer();
    requestCodec.encodeToWire(wire, template);
    Buffer future = wire.copy().setByte(4, (byte) 9);
    Buffer cut = wire.getBuffer(0, wire.length() - 3);
    for (Buffer bad : List.of(future, cut)) {
      Throwable refused = catchThrowable(() -> asForeignNode(gatewayNode.vertx(), GenerateRequest.class,
          requestCodec, bus -> bus.request(Addresses.workerGenerate(WORKER), bad,
              new DeliveryOptions().setCodecName(requestCodec.name()).setSendTimeout(10_000)))
          .await(30, SECONDS));
      assertThat(refused).isInstanceOf(ReplyException.class);
      ReplyException reply = (ReplyException) refused;
      assertThat(reply.failureCode()).isEqualTo(GenerateError.Code.INVALID_REQUEST.wireCode());
      assertThat(GenerateError.fromReplyException(reply).message()).contains("unreadable generate request")
          .containsAnyOf("version 9", "truncated");
    }

    // A chunk the gateway cannot read, naming an open stream: that stream ends with an error, the worker is told.
    Answer held = new Answer(request("held-" + UUID.randomUUID(), plane.replyAddress(), 2));
    WorkerState worker = new WorkerState(publishedDescriptor(), null, 10, null);
    ChunkStream stream = onGateway(() -> plane.open(worker, held.request)
        .onSuccess(opened -> opened.pause().handler(held::add)))
        .await(60, SECONDS);
    TaggedChunkCodec chunkCodec = new TaggedChunkCodec();
    Buffer chunkWire = Buffer.buffer();
    chunkCodec.encodeToWire(chunkWire, new TaggedChunk(held.request.streamId(), StreamChunk.delta(2, "x",
        1)));
    chunkWire.setByte(4, (byte) 9);
    asForeignNode(workerNode.vertx(), TaggedChunk.class, chunkCodec, bus -> {
      bus.send(plane.replyAddress(), chunkWire, new DeliveryOptions().setCodecName(chunkCodec.name()));
      return Future.succeededFuture();
    }).await(60, SECONDS);
    Eventually.within(ofSeconds(30), "the gateway read the unreadable chunk",
        () -> received("unreadable").contains(plane.replyAddress()));
    onGateway(() -> {
      stream.resume();
      return Future.succeededFuture();
    }).await(60, SECONDS);
    StreamChunk end = held.last.get(30, TimeUnit.SECONDS);
    assertThat(end.error()).isNotNull();
    assertThat(end.error().message()).contains("cannot read").contains("version 9");

    // Both still serve.
    generate(new WorkerState(publishedDescriptor(), null, 10, null), 64).assertComplete();
  }

  // ---- helpers

  /**
   * Sends as a node whose codec of that name writes raw bytes: the plane's codec of this node is swapped for one that
   * passes a buffer as it is, for the send only (a message keeps the codec it was sent with), then put back.
   */
  private static <T> Future<T> asForeignNode(Vertx vertx, Class<?> type, MessageCodec<?, ?> real,
                                             java.util.function.Function<EventBus, Future<T>> send) {
    EventBus bus = vertx.eventBus();
    bus.unregisterDefaultCodec(type);
    bus.registerCodec(new RawBytes(real.name()));
    try {
      return send.apply(bus);
    } finally {
      bus.unregisterCodec(real.name());
      registerDefault(bus, type, real);
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static void registerDefault(EventBus bus, Class type, MessageCodec codec) {
    bus.registerDefaultCodec(type, codec);
  }

  private record RawBytes(String name) implements MessageCodec<Buffer, Buffer> {
    @Override
    public void encodeToWire(Buffer buffer, Buffer bytes) {
      buffer.appendBuffer(bytes);
    }

    @Override
    public Buffer decodeFromWire(int pos, Buffer buffer) {
      return buffer.getBuffer(pos, buffer.length());
    }

    @Override
    public Buffer transform(Buffer bytes) {
      return bytes;
    }

    @Override
    public byte systemCodecID() {
      return -1;
    }
  }

  private static WorkerDescriptor publishedDescriptor() throws Exception {
    ServiceDiscovery discovery = ServiceDiscovery.create(gatewayNode.vertx());
    try {
      List<Record> records = discovery.getRecords(record -> WorkerDescriptor.RECORD_TYPE.equals(record.getType())
          && WORKER.equals(record.getMetadata().getString("workerId"))).await(60, SECONDS);
      assertThat(records).as("the worker's record, seen from the gateway's node").hasSize(1);
      return WorkerDescriptor.fromJson(records.get(0).getMetadata());
    } finally {
      discovery.close();
    }
  }

  private static GenerateRequest request(String streamId, String replyAddress, int credits) {
    JsonObject body = new JsonObject().put("model", MODEL).put("max_tokens", TOKENS).put("messages",
        new JsonArray().add(new JsonObject().put("role", "user").put("content", "say \"hi\" \\ \uD83D\uDE00")));
    return new GenerateRequest(streamId, "req-" + streamId, MODEL, RequestKind.CHAT, body,
        "user: say \"hi\" \\ \uD83D\uDE00\n", new SamplingParams(TOKENS, 1.0, 1.0, List.of(), null),
        System.currentTimeMillis() + 30_000, null, null, gatewayNode.clusterManager().getNodeId(), replyAddress,
        credits);
  }

  /** Opens a stream through the plane and takes every chunk as it comes. */
  private static Answer generate(WorkerState worker, int credits) throws Exception {
    Answer answer = new Answer(request("s-" + UUID.randomUUID(), plane.replyAddress(), credits));
    onGateway(() -> plane.open(worker, answer.request).onSuccess(stream -> stream.handler(answer::add)))
        .await(60, SECONDS);
    answer.last.get(30, TimeUnit.SECONDS);
    return answer;
  }

  private static final class Answer {
    final GenerateRequest request;
    final List<StreamChunk> chunks = new CopyOnWriteArrayList<>();
    final CompletableFuture<StreamChunk> last = new CompletableFuture<>();

    Answer(GenerateRequest request) {
      this.request = request;
    }

    void add(StreamChunk chunk) {
      chunks.add(chunk);
      if (chunk.isLast()) {
        last.complete(chunk);
      }
    }

    void assertComplete() {
      StreamChunk end = chunks.get(chunks.size() - 1);
      assertThat(end.error()).as("no error: %s", end.error()).isNull();
      assertThat(end.finishReason()).isNotNull();
      assertThat(chunks).as("more chunks than the 4 credits first granted").hasSizeGreaterThan(4);
      assertThat(chunks.stream().mapToInt(StreamChunk::tokens).sum()).isEqualTo(end.usage().completionTokens())
          .isEqualTo(TOKENS);
      assertThat(chunks.stream().map(StreamChunk::text).reduce("", String::concat)).isNotBlank();
    }
  }

  private static <T> Future<T> onGateway(Supplier<Future<T>> action) {
    var promise = io.vertx.core.Promise.<T>promise();
    gatewayContext.runOnContext(v -> action.get().onComplete(promise));
    return promise.future();
  }
}
