package io.switchboard.worker.engine;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.Usage;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A {@link ChunkSink} for tests: records every call, and can pretend to be full after a number of writes until
 * {@link #release()} is called. Engines call it on an event loop; tests read it from their own thread, so every
 * method is synchronized.
 */
public final class RecordingSink implements ChunkSink {

  public record Write(String text, int tokens, JsonObject extra) {
  }

  private final List<Write> writes = new ArrayList<>();
  private final CompletableFuture<Void> done = new CompletableFuture<>();
  private int fullAfter;
  private Runnable drainHandler;
  private int drainHandlersSet;
  private int ends;
  private int fails;
  private int writesAfterDone;
  private String endText;
  private int endTokens;
  private String finishReason;
  private Usage usage;
  private JsonObject endExtra;
  private GenerateError error;
  private Runnable onWrite = () -> { };

  /** A sink that is never full. */
  public RecordingSink() {
    this(-1);
  }

  /** A sink that reports itself full once it holds {@code fullAfter} writes (-1: never), until released. */
  public RecordingSink(int fullAfter) {
    this.fullAfter = fullAfter;
  }

  /** Runs after every recorded write, on the engine's thread. */
  public synchronized RecordingSink onWrite(Runnable action) {
    this.onWrite = action;
    return this;
  }

  @Override
  public void write(String text, int tokens, JsonObject extra) {
    Runnable action;
    synchronized (this) {
      if (ends + fails > 0) {
        writesAfterDone++;
      }
      writes.add(new Write(text, tokens, extra));
      action = onWrite;
    }
    action.run();
  }

  @Override
  public synchronized void end(String text, int tokens, String finishReason, Usage usage, JsonObject extra) {
    ends++;
    this.endExtra = extra;
    this.endText = text;
    this.endTokens = tokens;
    this.finishReason = finishReason;
    this.usage = usage;
    done.complete(null);
  }

  @Override
  public synchronized void fail(GenerateError error) {
    fails++;
    this.error = error;
    done.complete(null);
  }

  @Override
  public synchronized boolean writeQueueFull() {
    return fullAfter >= 0 && writes.size() >= fullAfter;
  }

  @Override
  public synchronized void drainHandler(Runnable handler) {
    drainHandlersSet++;
    this.drainHandler = handler;
  }

  /** No longer full; runs the drain handler if one is waiting. Call it on the engine's context. */
  public void release() {
    Runnable handler;
    synchronized (this) {
      fullAfter = -1;
      handler = drainHandler;
      drainHandler = null;
    }
    if (handler != null) {
      handler.run();
    }
  }

  /** Waits until the stream ended or failed. */
  public RecordingSink awaitDone() {
    try {
      done.get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("stream did not end within 10 s; writes so far: " + writes(), e);
    }
    return this;
  }

  public boolean isDone() {
    return done.isDone();
  }

  public synchronized List<Write> writes() {
    return List.copyOf(writes);
  }

  public synchronized int writeCount() {
    return writes.size();
  }

  /** Text of the writes only. */
  public synchronized String writtenText() {
    StringBuilder text = new StringBuilder();
    writes.forEach(w -> text.append(w.text()));
    return text.toString();
  }

  /** Text of the writes plus the final chunk. */
  public synchronized String text() {
    return writtenText() + (endText == null ? "" : endText);
  }

  /** Tokens of the writes plus the final chunk. */
  public synchronized int tokens() {
    return writes.stream().mapToInt(Write::tokens).sum() + endTokens;
  }

  public synchronized boolean hasDrainHandler() {
    return drainHandler != null;
  }

  public synchronized int drainHandlersSet() {
    return drainHandlersSet;
  }

  /** Writes that arrived after end or fail (a contract violation). */
  public synchronized int writesAfterDone() {
    return writesAfterDone;
  }

  public synchronized int ends() {
    return ends;
  }

  public synchronized int fails() {
    return fails;
  }

  public synchronized String finishReason() {
    return finishReason;
  }

  public synchronized Usage usage() {
    return usage;
  }

  /** What the last chunk carried beside the text (an embeddings answer, tool calls), or null. */
  public synchronized JsonObject endExtra() {
    return endExtra;
  }

  public synchronized GenerateError error() {
    return error;
  }
}
