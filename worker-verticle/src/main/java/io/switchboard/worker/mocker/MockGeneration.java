package io.switchboard.worker.mocker;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.Usage;
import io.switchboard.worker.engine.ChunkSink;
import io.switchboard.worker.engine.Generation;
import io.vertx.core.Vertx;

import java.util.List;

/**
 * One mocker answer in progress. Tokens fall due on a schedule (prefill, then one decode interval each); each
 * pump emits what is due, unless the sink is full, in which case it waits for the sink to drain.
 */
final class MockGeneration implements Generation {

  /** Most tokens emitted in one go before yielding the event loop (matters only with instant decoding). */
  private static final int MAX_TOKENS_PER_PUMP = 256;

  private final Vertx vertx;
  private final MockerEngine engine;
  private final GenerateRequest request;
  private final String modelInput;
  private final ChunkSink sink;
  private final MockText text;
  /** Prompt and cached token counts, known from the start; completion tokens are counted as they go. */
  private final Usage promptUsage;
  private final long firstTokenDueNanos;
  private final long prefillNanos;
  private final int totalTokens;
  private final boolean limitedByMaxTokens;
  private final List<String> stops;
  private final int holdBack;
  private final StringBuilder answer = new StringBuilder();
  private int nextToken;
  private int sentChars;
  private int unsentTokens;
  private long nextDueNanos;
  private long timerId = -1;
  private boolean done;

  MockGeneration(Vertx vertx, MockerEngine engine, GenerateRequest request, String modelInput, ChunkSink sink, MockText text,
                 Usage promptUsage, int totalTokens, boolean limitedByMaxTokens, long firstTokenDueNanos,
                 long prefillNanos) {
    this.vertx = vertx;
    this.engine = engine;
    this.request = request;
    this.modelInput = modelInput;
    this.sink = sink;
    this.text = text;
    this.promptUsage = promptUsage;
    this.firstTokenDueNanos = firstTokenDueNanos;
    this.prefillNanos = prefillNanos;
    this.totalTokens = totalTokens;
    this.limitedByMaxTokens = limitedByMaxTokens;
    this.stops = request.sampling().stop();
    this.holdBack = stops.stream().mapToInt(String::length).max().orElse(1) - 1;
    this.nextToken = request.resume().completionTokens();
    this.nextDueNanos = firstTokenDueNanos;
  }

  void start() {
    pump();
  }

  private void pump() {
    timerId = -1;
    int emitted = 0;
    while (!done) {
      if (request.deadlineEpochMs() > 0 && System.currentTimeMillis() > request.deadlineEpochMs()) {
        fail(GenerateError.of(GenerateError.Code.DEADLINE_EXCEEDED,
            "the request's deadline passed after " + nextToken + " tokens", engine.workerId()));
        return;
      }
      if (nextToken >= totalTokens) {
        finish(limitedByMaxTokens ? "length" : "stop", answer.length());
        return;
      }
      if (sink.writeQueueFull()) {
        sink.drainHandler(this::pump);
        return;
      }
      long wait = nextDueNanos - System.nanoTime();
      if (wait > 0) {
        timerId = vertx.setTimer(Math.max(1, wait / 1_000_000), id -> pump());
        return;
      }
      if (emitted == MAX_TOKENS_PER_PUMP) {
        vertx.runOnContext(v -> pump());
        return;
      }
      emitNextToken();
      emitted++;
      nextDueNanos += engine.decodeIntervalNanos();
    }
  }

  private void emitNextToken() {
    int searchFrom = Math.max(0, answer.length() - holdBack);
    answer.append(text.token(nextToken));
    nextToken++;
    int stopAt = firstStop(searchFrom);
    if (stopAt >= 0) {
      finish("stop", stopAt);
      return;
    }
    // Hold back a tail that could be the start of a stop sequence, as real servers do; its tokens go out
    // with the next text, so no empty chunk costs a message and a credit.
    unsentTokens++;
    int safe = Math.max(sentChars, answer.length() - holdBack);
    if (safe > sentChars) {
      sink.write(answer.substring(sentChars, safe), unsentTokens);
      sentChars = safe;
      unsentTokens = 0;
    }
  }

  private int firstStop(int from) {
    int first = -1;
    for (String stop : stops) {
      int at = answer.indexOf(stop, from);
      if (at >= 0 && (first < 0 || at < first)) {
        first = at;
      }
    }
    return first;
  }

  private void finish(String finishReason, int endChars) {
    done = true;
    engine.finished();
    engine.computed(modelInput, answer);
    String rest = endChars > sentChars ? answer.substring(sentChars, endChars) : "";
    sink.end(rest, unsentTokens, finishReason,
        new Usage(promptUsage.promptTokens(), nextToken, promptUsage.cachedTokens()));
  }

  private void fail(GenerateError error) {
    done = true;
    engine.finished();
    sink.fail(error);
  }

  @Override
  public void cancel() {
    if (done) {
      return;
    }
    done = true;
    engine.finished();
    if (System.nanoTime() < firstTokenDueNanos) {
      engine.prefillCancelled(firstTokenDueNanos, prefillNanos);
    }
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
    }
  }
}
