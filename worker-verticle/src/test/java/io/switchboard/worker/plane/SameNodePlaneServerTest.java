package io.switchboard.worker.plane;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.SameNodeWorkers;
import io.switchboard.protocol.SamplingParams;
import io.switchboard.protocol.StreamChunk;
import io.switchboard.worker.WorkerOptions;
import io.switchboard.worker.mocker.MockerEngine;
import io.switchboard.worker.mocker.MockerOptions;
import io.switchboard.worker.runner.GenerationRunner;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The worker's side of the same-node path: listed while it accepts, answers on the gateway's context, numbers
 * its chunks, holds back past its credits until granted more, stops on cancel, refuses once it stopped accepting.
 */
class SameNodePlaneServerTest {

  private Vertx vertx;
  private Context workerContext;
  private Context gatewayContext;
  private SameNodePlaneServer server;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    workerContext = vertx.getOrCreateContext();
    gatewayContext = vertx.getOrCreateContext();
    WorkerOptions options = new WorkerOptions().setId("w1").setModel("mock-llm").setSlots(4)
        .setMocker(new MockerOptions().setPrefillTokensPerSecond(0).setDecodeTokensPerSecond(0));
    GenerationRunner runner = new GenerationRunner(vertx,
        new MockerEngine(vertx, options.getMocker(), "w1", options.getContextLength()), options, "w1", "node-1");
    server = new SameNodePlaneServer(vertx, workerContext, "w1", runner);
    server.start();
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static GenerateRequest request(String streamId, int maxTokens, int credits) {
    return new GenerateRequest(streamId, "req-" + streamId, "mock-llm", RequestKind.COMPLETION, null,
        "once upon a time", new SamplingParams(maxTokens, 1.0, 1.0, null, null), 0, null, null, "node-1", "", credits);
  }

  /** Records what the worker tells the gateway, and on which context. */
  private final class RecordingStream implements SameNodeWorkers.Stream {
    final List<String> events = new CopyOnWriteArrayList<>();
    final List<StreamChunk> chunks = new CopyOnWriteArrayList<>();
    final CompletableFuture<Void> ended = new CompletableFuture<>();
    volatile boolean allOnGatewayContext = true;

    private void check() {
      allOnGatewayContext &= Vertx.currentContext() == gatewayContext;
    }

    @Override
    public void accepted() {
      check();
      events.add("accepted");
    }

    @Override
    public void refused(GenerateError why) {
      check();
      events.add("refused " + why.code() + ": " + why.message());
      ended.complete(null);
    }

    @Override
    public void chunk(StreamChunk chunk) {
      check();
      chunks.add(chunk);
      if (chunk.isLast()) {
        ended.complete(null);
      }
    }
  }

  @Test
  void listedWhileAcceptingAndAnswersOnTheGatewaysContextWithNumberedChunks() throws Exception {
    assertThat(SameNodeWorkers.of(vertx).get("w1")).isSameAs(server);
    RecordingStream stream = new RecordingStream();
    server.open(request("s1", 12, 64), gatewayContext, stream);
    stream.ended.get(10, TimeUnit.SECONDS);
    // Chunks an engine sends while it is being started may arrive before the acceptance (the gateway queues
    // them until it has it), as on the event bus.
    long until = System.currentTimeMillis() + 5_000;
    while (stream.events.isEmpty() && System.currentTimeMillis() < until) {
      Thread.sleep(10);
    }
    assertThat(stream.events).containsExactly("accepted");
    assertThat(stream.allOnGatewayContext).isTrue();
    for (int i = 0; i < stream.chunks.size(); i++) {
      assertThat(stream.chunks.get(i).seq()).isEqualTo(i);
    }
    StreamChunk last = stream.chunks.get(stream.chunks.size() - 1);
    assertThat(last.error()).isNull();
    assertThat(last.usage().completionTokens()).isEqualTo(12);
    assertThat(stream.chunks.stream().mapToInt(StreamChunk::tokens).sum()).isEqualTo(12);
  }

  @Test
  void holdsBackPastItsCreditsUntilTheGatewayGrantsMore() throws Exception {
    RecordingStream stream = new RecordingStream();
    server.open(request("s2", 40, 2), gatewayContext, stream);
    Thread.sleep(300);
    assertThat(stream.ended).isNotDone();
    assertThat(stream.chunks).hasSize(2);
    for (int granted = 0; granted < 100 && !stream.ended.isDone(); granted++) {
      server.grant("s2", 1);
      Thread.sleep(5);
    }
    stream.ended.get(10, TimeUnit.SECONDS);
    assertThat(stream.chunks.get(stream.chunks.size() - 1).usage().completionTokens()).isEqualTo(40);
  }

  @Test
  void cancelStopsTheGeneration() throws Exception {
    RecordingStream stream = new RecordingStream();
    server.open(request("s3", 40, 1), gatewayContext, stream);
    Thread.sleep(200);
    server.cancel("s3", "client went away");
    Thread.sleep(200);
    int before = stream.chunks.size();
    server.grant("s3", 100);
    Thread.sleep(200);
    assertThat(stream.chunks.size()).isLessThanOrEqualTo(before + 1);
    assertThat(stream.chunks.stream().mapToInt(StreamChunk::tokens).sum()).isLessThan(40);
  }

  @Test
  void onceItStoppedAcceptingItIsUnlistedAndRefusesWhatStillReachesIt() throws Exception {
    server.stopAccepting();
    assertThat(SameNodeWorkers.of(vertx).get("w1")).isNull();
    RecordingStream stream = new RecordingStream();
    server.open(request("s4", 5, 64), gatewayContext, stream);
    stream.ended.get(10, TimeUnit.SECONDS);
    assertThat(stream.events).containsExactly("refused WORKER_STOPPING: worker w1 is stopping and takes no new "
        + "requests");
    assertThat(stream.chunks).isEmpty();
    assertThat(stream.allOnGatewayContext).isTrue();
  }
}
