package io.switchboard.gateway.exchange;

import io.switchboard.runtime.time.DeadlineSweep;
import io.netty.channel.ChannelOption;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * Bounds how long one client may leave what the gateway wrote to it unread ({@code gateway.limits.clientStallTimeoutMs}).
 * The owner says when the client's connection stopped taking bytes (its write queue is full, or a finished answer
 * is still waiting to go out) and when it took them again; if the client takes nothing for the whole limit, the
 * owner's action runs. Time counts only while the client holds the gateway back, so a client that reads, however
 * slowly, is never cut. Used on the gateway's event loop; the deadline is kept by the gateway's
 * {@link DeadlineSweep}.
 */
final class ClientStall {

  private final DeadlineSweep deadlines;
  private final long limitMs;
  private DeadlineSweep.Deadline deadline;
  private boolean stalled;
  private long sinceNanos;

  ClientStall(DeadlineSweep deadlines, long limitMs) {
    this.deadlines = deadlines;
    this.limitMs = limitMs;
  }

  long limitMs() {
    return limitMs;
  }

  /** The client stopped taking bytes: {@code onStalled} runs if it takes none for the limit (once). */
  void stalled(Runnable onStalled) {
    if (stalled) {
      return;
    }
    stalled = true;
    sinceNanos = System.nanoTime();
    deadline = deadlines.watch(limitMs, () -> {
      deadline = null;
      onStalled.run();
    });
  }

  /** The client took bytes again (or the owner is done with it). */
  void drained() {
    stalled = false;
    if (deadline != null) {
      deadline.cancel();
      deadline = null;
    }
  }

  /** How long the current stall has lasted; 0 when the client is not stalled. */
  long stalledMs() {
    return stalled ? (System.nanoTime() - sinceNanos) / 1_000_000 : 0;
  }

  /**
   * Closes a client's connection at once, dropping what it has not read, and resets it (so neither this process
   * nor the kernel keeps the unread bytes). Vert.x's {@code close()}, and a close of its channel, first wait for
   * every byte written to reach the socket, which never happens for a client that does not read; a close issued
   * below Vert.x's handler in the channel's pipeline does not wait.
   */
  static void abort(HttpConnection connection) {
    if (connection instanceof ConnectionBase base) {
      base.channel().config().setOption(ChannelOption.SO_LINGER, 0);
      base.channelHandlerContext().close();
    } else {
      connection.close();
    }
  }
}
