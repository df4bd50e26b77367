package io.switchboard.worker.engine;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.Usage;
import io.vertx.core.json.JsonObject;

import java.util.function.Consumer;

/**
 * Passes a generation's chunks through and runs {@code onRelease} exactly once when it is over (ended, failed,
 * or {@link #release() released} on cancel), so an engine can count what it has in flight and drain.
 */
public final class ReleasingSink implements ChunkSink {

  private final ChunkSink sink;
  private final Runnable onRelease;
  private final Consumer<GenerateError> onFailure;
  private boolean released;

  /** @param onFailure sees every failure before the sink does (an engine may react, e.g. re-read its models) */
  public ReleasingSink(ChunkSink sink, Runnable onRelease, Consumer<GenerateError> onFailure) {
    this.sink = sink;
    this.onRelease = onRelease;
    this.onFailure = onFailure;
  }

  public ReleasingSink(ChunkSink sink, Runnable onRelease) {
    this(sink, onRelease, error -> { });
  }

  public void release() {
    if (!released) {
      released = true;
      onRelease.run();
    }
  }

  @Override
  public void write(String text, int tokens, JsonObject extra) {
    sink.write(text, tokens, extra);
  }

  @Override
  public void end(String text, int tokens, String finishReason, Usage usage, JsonObject extra) {
    release();
    sink.end(text, tokens, finishReason, usage, extra);
  }

  @Override
  public void fail(GenerateError error) {
    release();
    onFailure.accept(error);
    sink.fail(error);
  }

  @Override
  public boolean writeQueueFull() {
    return sink.writeQueueFull();
  }

  @Override
  public void drainHandler(Runnable handler) {
    sink.drainHandler(handler);
  }
}
