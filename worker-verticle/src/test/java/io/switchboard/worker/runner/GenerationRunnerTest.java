package io.switchboard.worker.runner;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.LoadReport;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.SamplingParams;
import io.switchboard.worker.WorkerOptions;
import io.switchboard.worker.engine.ChunkSink;
import io.switchboard.worker.engine.Engine;
import io.switchboard.worker.engine.Generation;
import io.switchboard.worker.engine.OnContext;
import io.switchboard.worker.engine.RecordingSink;
import io.switchboard.worker.mocker.MockerEngine;
import io.switchboard.worker.mocker.MockerOptions;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class GenerationRunnerTest {

  private static final String MODEL = "mock-llm";

  private Vertx vertx;
  private Context context;
  /** How often each stream's onClosed ran, by stream id. */
  private final Map<String, AtomicInteger> closed = new HashMap<>();

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    context = vertx.getOrCreateContext();
  }

  private static WorkerOptions options(int slots, int maxQueue) {
    return new WorkerOptions()
        .setId("w1")
        .setModel(MODEL)
        .setSlots(slots)
        .setMaxQueue(maxQueue)
        .setMocker(new MockerOptions().setPrefillTokensPerSecond(0).setDecodeTokensPerSecond(0));
  }

  private GenerationRunner runner(WorkerOptions options) {
    return new GenerationRunner(vertx, engine(options), options, "w1", "worker-node");
  }

  private MockerEngine engine(WorkerOptions options) {
    return new MockerEngine(vertx, options.getMocker(), "w1", options.getContextLength());
  }

  /** Wraps an engine and counts how often the runner cancels the generations it started. */
  private static final class CancelCountingEngine implements Engine {
    private final Engine delegate;
    final AtomicInteger cancels = new AtomicInteger();

    CancelCountingEngine(Engine delegate) {
      this.delegate = delegate;
    }

    @Override
    public String kind() {
      return delegate.kind();
    }

    @Override
    public Future<Void> start() {
      return delegate.start();
    }

    @Override
    public Generation generate(GenerateRequest request, ChunkSink sink) {
      Generation generation = delegate.generate(request, sink);
      return () -> {
        cancels.incrementAndGet();
        generation.cancel();
      };
    }

    @Override
    public Future<Void> stop() {
      return delegate.stop();
    }
  }

  private static GenerateRequest request(String streamId, String model, int maxTokens, String gatewayNode) {
    return new GenerateRequest(streamId, "req-" + streamId, model, RequestKind.COMPLETION, null, "once upon a time",
        new SamplingParams(maxTokens, 1.0, 1.0, null, null), 0, null, null, gatewayNode, "reply", 16);
  }

  private static GenerateRequest request(String streamId) {
    return request(streamId, MODEL, 10, "gateway-node");
  }

  private GenerateError submit(GenerationRunner runner, GenerateRequest request, RecordingSink sink) {
    AtomicInteger count = closed.computeIfAbsent(request.streamId(), id -> new AtomicInteger());
    return OnContext.call(context, () -> runner.submit(request, sink, count::incrementAndGet));
  }

  private int closedCount(String streamId) {
    // Read on the context, after anything already scheduled there.
    return OnContext.call(context, () -> closed.getOrDefault(streamId, new AtomicInteger()).get());
  }

  private LoadReport load(GenerationRunner runner) {
    return OnContext.call(context, runner::loadReport);
  }

  /** A sink that is full from the start: its stream holds its slot and writes nothing until released. */
  private static RecordingSink held() {
    return new RecordingSink(0);
  }

  private static void assertUntouched(RecordingSink sink) {
    assertThat(sink.writeCount()).isZero();
    assertThat(sink.ends()).isZero();
    assertThat(sink.fails()).isZero();
  }

  @Test
  void admitsAndRunsAGenerationToTheEnd() {
    GenerationRunner runner = runner(options(1, 1));
    RecordingSink sink = new RecordingSink();

    assertThat(submit(runner, request("a"), sink)).isNull();

    sink.awaitDone();
    assertThat(sink.ends()).isEqualTo(1);
    assertThat(sink.usage().completionTokens()).isEqualTo(10);
    assertThat(closedCount("a")).isEqualTo(1);
    assertThat(load(runner).inFlight()).isZero();
  }

  @Test
  void refusesAModelItDoesNotServe() {
    GenerationRunner runner = runner(options(1, 1));
    RecordingSink sink = new RecordingSink();

    GenerateError refused = submit(runner, request("a", "other-model", 10, "g"), sink);

    assertThat(refused).isNotNull();
    assertThat(refused.code()).isEqualTo(GenerateError.Code.MODEL_NOT_SERVED);
    assertThat(refused.retryable()).isFalse();
    assertThat(refused.workerId()).isEqualTo("w1");
    assertThat(refused.message()).contains("other-model").contains(MODEL);
    assertUntouched(sink);
    assertThat(closedCount("a")).isZero();
  }

  @Test
  void refusesAsBusyWhenSlotsAndQueueAreFull() {
    GenerationRunner runner = runner(options(1, 1));
    RecordingSink running = held();
    RecordingSink queued = held();
    RecordingSink refusedSink = new RecordingSink();

    assertThat(submit(runner, request("a"), running)).isNull();
    assertThat(submit(runner, request("b"), queued)).isNull();
    GenerateError refused = submit(runner, request("c"), refusedSink);

    assertThat(refused).isNotNull();
    assertThat(refused.code()).isEqualTo(GenerateError.Code.WORKER_BUSY);
    assertThat(refused.retryable()).isTrue();
    assertUntouched(refusedSink);
    assertThat(closedCount("c")).isZero();
    LoadReport load = load(runner);
    assertThat(load.inFlight()).isEqualTo(1);
    assertThat(load.queued()).isEqualTo(1);
    assertThat(load.freeSlots()).isZero();
    assertThat(load.slots()).isEqualTo(1);
    assertThat(load.model()).isEqualTo(MODEL);
    assertThat(load.draining()).isFalse();
  }

  @Test
  void aRefusedStreamIdCanBeSubmittedAgainLater() {
    GenerationRunner runner = runner(options(1, 0));
    RecordingSink running = held();
    submit(runner, request("a"), running);
    assertThat(submit(runner, request("b"), new RecordingSink()).code()).isEqualTo(GenerateError.Code.WORKER_BUSY);

    OnContext.run(context, running::release);
    running.awaitDone();
    RecordingSink retry = new RecordingSink();

    assertThat(submit(runner, request("b"), retry)).isNull();
    retry.awaitDone();
    assertThat(retry.ends()).isEqualTo(1);
  }

  @Test
  void refusesAStreamIdThatIsAlreadyRunning() {
    GenerationRunner runner = runner(options(2, 1));
    submit(runner, request("a"), held());
    RecordingSink duplicate = new RecordingSink();

    GenerateError refused = submit(runner, request("a"), duplicate);

    assertThat(refused.code()).isEqualTo(GenerateError.Code.INVALID_REQUEST);
    assertUntouched(duplicate);
    assertThat(load(runner).inFlight()).isEqualTo(1);
  }

  @Test
  void cancelFreesTheSlotSoTheQueuedStreamStarts() {
    GenerationRunner runner = runner(options(1, 1));
    RecordingSink first = held();
    RecordingSink second = new RecordingSink();
    submit(runner, request("a"), first);
    submit(runner, request("b"), second);
    assertThat(second.writeCount()).isZero();

    OnContext.run(context, () -> runner.cancel("a", "client went away"));

    second.awaitDone();
    assertThat(second.ends()).isEqualTo(1);
    assertThat(second.usage().completionTokens()).isEqualTo(10);
    assertUntouched(first);
    assertThat(closedCount("a")).isEqualTo(1);
    assertThat(closedCount("b")).isEqualTo(1);
    LoadReport load = load(runner);
    assertThat(load.inFlight()).isZero();
    assertThat(load.queued()).isZero();
    assertThat(load.freeSlots()).isEqualTo(1);

    // The cancelled stream's engine was told to stop: releasing its sink writes nothing.
    OnContext.run(context, first::release);
    assertUntouched(first);
  }

  @Test
  void cancelAndDrainTimeoutStopTheEnginesGeneration() throws Exception {
    WorkerOptions options = options(1, 1).setDrainTimeoutMs(50);
    CancelCountingEngine engine = new CancelCountingEngine(engine(options));
    GenerationRunner runner = new GenerationRunner(vertx, engine, options, "w1", "worker-node");
    submit(runner, request("a"), held());
    submit(runner, request("b"), held());

    OnContext.run(context, () -> runner.cancel("a", "client went away"));
    assertThat(engine.cancels).hasValue(1);

    OnContext.call(context, runner::drain).await(10, TimeUnit.SECONDS);
    assertThat(engine.cancels).hasValue(2);
  }

  @Test
  void cancellingAQueuedStreamRemovesItFromTheQueue() {
    GenerationRunner runner = runner(options(1, 1));
    RecordingSink first = held();
    RecordingSink second = new RecordingSink();
    submit(runner, request("a"), first);
    submit(runner, request("b"), second);

    OnContext.run(context, () -> runner.cancel("b", "client went away"));

    assertThat(closedCount("b")).isEqualTo(1);
    assertThat(load(runner).queued()).isZero();
    OnContext.run(context, first::release);
    first.awaitDone();
    assertThat(closedCount("a")).isEqualTo(1);
    assertUntouched(second);
    assertThat(load(runner).inFlight()).isZero();
    // The queue has room again.
    assertThat(submit(runner, request("c"), held())).isNull();
  }

  @Test
  void cancellingAnUnknownStreamIsIgnored() {
    GenerationRunner runner = runner(options(1, 1));
    RecordingSink sink = held();
    submit(runner, request("a"), sink);

    OnContext.run(context, () -> runner.cancel("no-such-stream", "whatever"));

    assertThat(load(runner).inFlight()).isEqualTo(1);
    assertThat(closedCount("a")).isZero();
  }

  @Test
  void onClosedRunsExactlyOncePerAdmittedStream() {
    WorkerOptions options = options(1, 2).setContextLength(64);
    GenerationRunner runner = runner(options);

    // Ends normally, then is cancelled (too late).
    RecordingSink ended = new RecordingSink();
    submit(runner, request("ended"), ended);
    ended.awaitDone();
    OnContext.run(context, () -> runner.cancel("ended", "late"));

    // Fails inside the engine: too long for the context.
    RecordingSink failed = new RecordingSink();
    submit(runner, request("failed", MODEL, 1000, "g"), failed);
    failed.awaitDone();
    OnContext.run(context, () -> runner.cancel("failed", "late"));

    // Cancelled twice while running, and once more while queued.
    RecordingSink running = held();
    RecordingSink queued = held();
    submit(runner, request("running"), running);
    submit(runner, request("queued"), queued);
    OnContext.run(context, () -> runner.cancel("queued", "first"));
    OnContext.run(context, () -> runner.cancel("queued", "second"));
    OnContext.run(context, () -> runner.cancel("running", "first"));
    OnContext.run(context, () -> runner.cancel("running", "second"));

    assertThat(ended.ends()).isEqualTo(1);
    assertThat(failed.fails()).isEqualTo(1);
    assertThat(failed.error().code()).isEqualTo(GenerateError.Code.INVALID_REQUEST);
    for (String stream : new String[] {"ended", "failed", "running", "queued"}) {
      assertThat(closedCount(stream)).as("onClosed runs of " + stream).isEqualTo(1);
    }
    LoadReport load = load(runner);
    assertThat(load.inFlight()).isZero();
    assertThat(load.queued()).isZero();
  }

  @Test
  void aStreamThatFailsAtOnceFreesItsSlot() {
    GenerationRunner runner = runner(options(1, 0).setContextLength(64));

    RecordingSink tooLong = new RecordingSink();
    assertThat(submit(runner, request("a", MODEL, 1000, "g"), tooLong)).isNull();
    tooLong.awaitDone();
    RecordingSink next = new RecordingSink();

    assertThat(submit(runner, request("b"), next)).isNull();
    next.awaitDone();
    assertThat(next.ends()).isEqualTo(1);
  }

  @Test
  void cancelForGatewayNodeStopsOnlyThatNodesStreams() {
    GenerationRunner runner = runner(options(2, 2));
    RecordingSink fromA = held();
    RecordingSink fromB = held();
    RecordingSink queuedFromA = held();
    submit(runner, request("a1", MODEL, 10, "node-a"), fromA);
    submit(runner, request("b1", MODEL, 10, "node-b"), fromB);
    submit(runner, request("a2", MODEL, 10, "node-a"), queuedFromA);

    OnContext.run(context, () -> runner.cancelForGatewayNode("node-a"));

    assertThat(closedCount("a1")).isEqualTo(1);
    assertThat(closedCount("a2")).isEqualTo(1);
    assertThat(closedCount("b1")).isZero();
    LoadReport load = load(runner);
    assertThat(load.inFlight()).isEqualTo(1);
    assertThat(load.queued()).isZero();
  }

  @Test
  void drainWithNothingInFlightCompletesAtOnce() {
    GenerationRunner runner = runner(options(1, 1));

    Future<Void> drained = OnContext.call(context, runner::drain);

    assertThat(drained.succeeded()).isTrue();
    assertThat(OnContext.call(context, runner::isDraining)).isTrue();
  }

  @Test
  void drainCompletesWhenStreamsEndAndRefusesNewWork() throws Exception {
    GenerationRunner runner = runner(options(1, 1));
    RecordingSink first = held();
    RecordingSink second = held();
    submit(runner, request("a"), first);
    submit(runner, request("b"), second);

    Future<Void> drained = OnContext.call(context, runner::drain);

    RecordingSink late = new RecordingSink();
    GenerateError refused = submit(runner, request("c"), late);
    assertThat(refused.code()).isEqualTo(GenerateError.Code.WORKER_STOPPING);
    assertThat(refused.retryable()).isTrue();
    assertUntouched(late);
    assertThat(load(runner).draining()).isTrue();
    assertThat(drained.isComplete()).isFalse();

    OnContext.run(context, first::release);
    first.awaitDone();
    assertThat(drained.isComplete()).isFalse();

    // The queued stream still runs during the drain.
    OnContext.run(context, second::release);
    second.awaitDone();
    drained.await(10, TimeUnit.SECONDS);

    assertThat(first.ends()).isEqualTo(1);
    assertThat(second.ends()).isEqualTo(1);
    assertThat(first.fails() + second.fails()).isZero();
    assertThat(closedCount("a")).isEqualTo(1);
    assertThat(closedCount("b")).isEqualTo(1);
  }

  @Test
  void drainCompletesWhenTheLastStreamIsCancelled() throws Exception {
    GenerationRunner runner = runner(options(1, 1));
    submit(runner, request("a"), held());
    Future<Void> drained = OnContext.call(context, runner::drain);

    OnContext.run(context, () -> runner.cancel("a", "gone"));

    drained.await(10, TimeUnit.SECONDS);
    assertThat(closedCount("a")).isEqualTo(1);
  }

  @Test
  void drainTimeoutFailsUnfinishedStreamsAsWorkerStopping() throws Exception {
    GenerationRunner runner = runner(options(1, 1).setDrainTimeoutMs(100));
    RecordingSink running = held();
    RecordingSink queued = held();
    submit(runner, request("a"), running);
    submit(runner, request("b"), queued);

    long started = System.nanoTime();
    Future<Void> drained = OnContext.call(context, runner::drain);
    drained.await(10, TimeUnit.SECONDS);
    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

    assertThat(elapsedMs).isGreaterThanOrEqualTo(80);
    for (RecordingSink sink : new RecordingSink[] {running, queued}) {
      assertThat(sink.fails()).isEqualTo(1);
      assertThat(sink.ends()).isZero();
      assertThat(sink.error().code()).isEqualTo(GenerateError.Code.WORKER_STOPPING);
      assertThat(sink.error().retryable()).isTrue();
      assertThat(sink.error().message()).contains("drain timeout");
    }
    assertThat(closedCount("a")).isEqualTo(1);
    assertThat(closedCount("b")).isEqualTo(1);
    LoadReport load = load(runner);
    assertThat(load.inFlight()).isZero();
    assertThat(load.queued()).isZero();

    // A failed stream's engine was stopped: releasing the sinks writes nothing more.
    OnContext.run(context, running::release);
    OnContext.run(context, queued::release);
    assertThat(running.writeCount() + queued.writeCount()).isZero();
  }
}
