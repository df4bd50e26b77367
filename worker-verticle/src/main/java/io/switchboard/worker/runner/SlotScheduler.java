package io.switchboard.worker.runner;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Admits generations into a fixed number of slots with a bounded FIFO queue behind them. Not thread-safe:
 * used only on the worker verticle's event loop.
 */
final class SlotScheduler {

  private final int slots;
  private final int maxQueue;
  private final Deque<Runnable> queue = new ArrayDeque<>();
  private int running;

  SlotScheduler(int slots, int maxQueue) {
    this.slots = slots;
    this.maxQueue = maxQueue;
  }

  /** Runs {@code start} now if a slot is free, queues it if the queue has room, else returns false. */
  boolean admit(Runnable start) {
    if (running < slots) {
      running++;
      start.run();
      return true;
    }
    if (queue.size() < maxQueue) {
      queue.addLast(start);
      return true;
    }
    return false;
  }

  /** Whether {@link #admit(Runnable)} would queue rather than run. */
  boolean wouldQueue() {
    return running >= slots;
  }

  /** Removes a queued start that has not run yet (its request was cancelled while waiting). */
  boolean dequeue(Runnable start) {
    return queue.remove(start);
  }

  /** A slot was freed: start the oldest waiting generation, if any. */
  void release() {
    running--;
    Runnable next = queue.pollFirst();
    if (next != null) {
      running++;
      next.run();
    }
  }

  int running() {
    return running;
  }

  int queued() {
    return queue.size();
  }

  int free() {
    return Math.max(0, slots - running);
  }

  int slots() {
    return slots;
  }
}
