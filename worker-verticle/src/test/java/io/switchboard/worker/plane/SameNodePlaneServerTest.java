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
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The worker's side of the same-node path: listed while it accepts, answers on the gateway's context, numbers
 * its chunks, holds back past its credits until granted more, stops on cancel, refuses once it stopped accepting.
 * The mocker answers at once, so where a test shows that nothing more comes it gives it a short real time to come.
 */
@ExtendWith(VertxExtension.class)
class SameNodePlaneServerTest {

  private Vertx vertx;
  private Context workerContext;
  private Context gatewayContext;
  private SameNodePlaneServer server;

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    workerContext = vertx.getOrCreateContext();
    gatewayContext = vertx.getOrCreateContext();
    WorkerOptions options = new WorkerOptions().setId("w1").setModel("mock-llm").setSlots(4)
        .setMocker(new MockerOptions().setPrefillTokensPerSecond(0).setDecodeTokensPerSecond(0));
    GenerationRunner runner = new GenerationRunner(vertx,
        new MockerEngine(vertx, options.getMocker(), "w1", options.getContextLength()), options, "w1", "node-1");
    server = new SameNodePlaneServer(vertx, workerContext, "w1", runner);
    server.start();
  }

  private static GenerateRequest request(String streamId, int maxTokens, int credits) {
    return new GenerateRequest(streamId, "req-" + streamId, "mock-llm", RequestKind.COMPLETION, null,
        "once upon a time", new SamplingParams(maxTokens, 1.0, 1.0, null, null), 0, null, null, "node-1", "", credits);
  }

  /** Records what the worker tells the gateway, and on which context; {@code onChunk} sees each chunk as it comes. */
  private final class RecordingStream implements SameNodeWorkers.Stream {
    final List<String> events = new CopyOnWriteArrayList<>();
    final List<StreamChunk> chunks = new CopyOnWriteArrayList<>();
    final Promise<Void> accepted = Promise.promise();
    final Promise<Void> ended = Promise.promise();
    volatile boolean allOnGatewayContext = true;
    Consumer<StreamChunk> onChunk = chunk -> { };

    private void check() {
      allOnGatewayContext &= Vertx.currentContext() == gatewayContext;
    }

    @Override
    public void accepted() {
      check();
      events.add("accepted");
      accepted.complete();
    }

    @Override
    public void refused(GenerateError why) {
      check();
      events.add("refused " + why.code() + ": " + why.message());
      ended.complete();
    }

    @Override
    public void chunk(StreamChunk chunk) {
      check();
      chunks.add(chunk);
      onChunk.accept(chunk);
      if (chunk.isLast()) {
        ended.complete();
      }
    }

    int tokens() {
      return chunks.stream().mapToInt(StreamChunk::tokens).sum();
    }
  }

  @Test
  void listedWhileAcceptingAndAnswersOnTheGatewaysContextWithNumberedChunks(VertxTestContext test) {
    assertThat(SameNodeWorkers.of(vertx).get("w1")).isSameAs(server);
    RecordingStream stream = new RecordingStream();

    server.open(request("s1", 12, 64), gatewayContext, stream);

    // Chunks an engine sends while it is being started may arrive before the acceptance (the gateway queues
    // them until it has it), as on the event bus.
    Future.all(stream.accepted.future(), stream.ended.future()).onComplete(test.succeeding(done -> test.verify(() -> {
      assertThat(stream.events).containsExactly("accepted");
      assertThat(stream.allOnGatewayContext).isTrue();
      for (int i = 0; i < stream.chunks.size(); i++) {
        assertThat(stream.chunks.get(i).seq()).isEqualTo(i);
      }
      StreamChunk last = stream.chunks.get(stream.chunks.size() - 1);
      assertThat(last.error()).isNull();
      assertThat(last.usage().completionTokens()).isEqualTo(12);
      assertThat(stream.tokens()).isEqualTo(12);
      test.completeNow();
    })));
  }

  @Test
  void holdsBackPastItsCreditsUntilTheGatewayGrantsMore(VertxTestContext test) {
    RecordingStream stream = new RecordingStream();
    boolean[] granting = {false};
    stream.onChunk = chunk -> {
      if (granting[0]) {
        // A gateway whose client reads: a credit back for every chunk taken.
        server.grant("s2", 1);
      } else if (stream.chunks.size() == 2) {
        // Both credits spent: a little real time in which an instant engine that ignored them would finish.
        vertx.setTimer(100, id -> {
          test.verify(() -> {
            assertThat(stream.chunks).hasSize(2);
            assertThat(stream.ended.future().isComplete()).isFalse();
          });
          granting[0] = true;
          server.grant("s2", 1);
        });
      }
    };

    server.open(request("s2", 40, 2), gatewayContext, stream);

    stream.ended.future().onComplete(test.succeeding(done -> test.verify(() -> {
      assertThat(stream.chunks.get(stream.chunks.size() - 1).usage().completionTokens()).isEqualTo(40);
      test.completeNow();
    })));
  }

  @Test
  void cancelStopsTheGeneration(VertxTestContext test) {
    RecordingStream stream = new RecordingStream();
    stream.onChunk = chunk -> {
      if (stream.chunks.size() == 1) {
        // Both reach the worker's context in this order: the grant comes after the cancel.
        server.cancel("s3", "client went away");
        server.grant("s3", 100);
        vertx.setTimer(100, id -> test.verify(() -> {
          assertThat(stream.chunks).as("at most the one the first credit still allowed").hasSizeLessThanOrEqualTo(2);
          assertThat(stream.tokens()).isLessThan(40);
          test.completeNow();
        }));
      }
    };

    server.open(request("s3", 40, 1), gatewayContext, stream);
  }

  @Test
  void onceItStoppedAcceptingItIsUnlistedAndRefusesWhatStillReachesIt(VertxTestContext test) {
    server.stopAccepting();
    assertThat(SameNodeWorkers.of(vertx).get("w1")).isNull();
    RecordingStream stream = new RecordingStream();

    server.open(request("s4", 5, 64), gatewayContext, stream);

    stream.ended.future().onComplete(test.succeeding(done -> test.verify(() -> {
      assertThat(stream.events).containsExactly("refused WORKER_STOPPING: worker w1 is stopping and takes no new "
          + "requests");
      assertThat(stream.chunks).isEmpty();
      assertThat(stream.allOnGatewayContext).isTrue();
      test.completeNow();
    })));
  }
}
