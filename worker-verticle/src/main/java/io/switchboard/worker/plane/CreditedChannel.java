package io.switchboard.worker.plane;

import io.switchboard.protocol.StreamChunk;

import java.util.function.Consumer;

/**
 * A stream to a gateway that grants credits (over the event bus, or directly to a gateway on this node): never sends
 * more text chunks than the gateway has granted room for. The final chunk (or error) may exceed the credits by one:
 * it carries no text the client must buffer. How a chunk travels is the plane server's {@code transport}. Used only
 * on the worker's context.
 */
final class CreditedChannel implements ChunkChannel {

  private final Consumer<StreamChunk> transport;
  private int credits;
  private Runnable drainHandler;

  CreditedChannel(int initialCredits, Consumer<StreamChunk> transport) {
    this.credits = initialCredits;
    this.transport = transport;
  }

  @Override
  public void send(StreamChunk chunk) {
    if (!chunk.isLast()) {
      credits--;
    }
    transport.accept(chunk);
  }

  @Override
  public boolean full() {
    return credits <= 0;
  }

  @Override
  public void drainHandler(Runnable handler) {
    this.drainHandler = handler;
  }

  /** The gateway consumed chunks and grants room for more. */
  void grant(int more) {
    credits += more;
    Runnable handler = drainHandler;
    if (handler != null && credits > 0) {
      drainHandler = null;
      handler.run();
    }
  }
}
