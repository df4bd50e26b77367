package io.switchboard.gateway.admission;

import io.vertx.core.Vertx;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * Where requests wait, per model and in arrival order, while every worker of their model is full, instead of
 * getting "busy" at once. A waiter is woken to try again when a request of its model ends on this gateway, or
 * every {@code pollMs} (capacity can also free up through other gateways); one waiter per wake-up, oldest first,
 * and a waiter that finds the workers still full goes back to the head of the line. Bounded per model; a waiter
 * gives up after its timeout. Only models with someone waiting have a line (an emptied one is dropped), and only
 * models some worker serves get one: the map grows with neither the names clients send nor time. A request held
 * while its model loads ({@link #hold}) counts against the same bound and shows in the same counts, but is not in the
 * line: it is not woken when capacity frees, its load's end wakes it. Used only on the gateway verticle's event loop.
 */
public final class AdmissionQueue {

  private final Vertx vertx;
  private final int maxWaitingPerModel;
  private final long pollMs;
  private final Map<String, Deque<Waiter>> queues = new HashMap<>();
  private final Map<String, Long> pollTimers = new HashMap<>();
  /** Requests held while their model loads, per model: counted, never woken by {@link #capacityFreed}. */
  private final Map<String, java.util.Set<Waiter>> holds = new HashMap<>();

  /** One parked request. */
  public final class Waiter {
    private final String model;
    private final Runnable retry;
    private final long timer;
    private boolean held;
    private boolean done;

    private Waiter(String model, Runnable retry, long timeoutMs, Runnable onTimeout) {
      this.model = model;
      this.retry = retry;
      this.timer = vertx.setTimer(timeoutMs, id -> {
        if (!done) {
          leave();
          onTimeout.run();
        }
      });
    }

    /** Back to the head of the line: the workers were still full when it tried. */
    public void waitAgain() {
      if (!done) {
        releaseHold();
        queues.computeIfAbsent(model, m -> new ArrayDeque<>()).addFirst(this);
        ensurePolling(model);
      }
    }

    /** Leaves the queue for good (admitted, timed out, or the client went away). */
    public void leave() {
      done = true;
      vertx.cancelTimer(timer);
      releaseHold();
      Deque<Waiter> queue = queues.get(model);
      if (queue != null) {
        queue.remove(this);
        dropIfEmpty(model, queue);
      }
    }

    private void releaseHold() {
      if (held) {
        held = false;
        java.util.Set<Waiter> set = holds.get(model);
        if (set != null) {
          set.remove(this);
          if (set.isEmpty()) {
            holds.remove(model);
          }
        }
      }
    }
  }

  public AdmissionQueue(Vertx vertx, int maxWaitingPerModel, long pollMs) {
    this.vertx = vertx;
    this.maxWaitingPerModel = maxWaitingPerModel;
    this.pollMs = pollMs;
  }

  /**
   * Parks a request at the end of its model's line: {@code retry} runs when it should try the workers again,
   * {@code onTimeout} if it waited {@code timeoutMs} in all. Null when the model's line is full.
   */
  public Waiter enqueue(String model, Runnable retry, long timeoutMs, Runnable onTimeout) {
    if (waiting(model) >= maxWaitingPerModel) {
      return null;
    }
    Deque<Waiter> queue = queues.computeIfAbsent(model, m -> new ArrayDeque<>());
    Waiter waiter = new Waiter(model, retry, timeoutMs, onTimeout);
    queue.addLast(waiter);
    ensurePolling(model);
    return waiter;
  }

  /**
   * Holds a request while its model loads: counted with the model's waiters (the same bound, the same gauge) and
   * ended by {@code onTimeout} after {@code timeoutMs}, but never woken when capacity frees; its owner ends the hold
   * ({@link Waiter#leave}) when the load is over. Null when the model's line is full.
   */
  public Waiter hold(String model, long timeoutMs, Runnable onTimeout) {
    if (waiting(model) >= maxWaitingPerModel) {
      return null;
    }
    Waiter waiter = new Waiter(model, () -> { }, timeoutMs, onTimeout);
    waiter.held = true;
    holds.computeIfAbsent(model, m -> new java.util.LinkedHashSet<>()).add(waiter);
    return waiter;
  }

  /** Requests held now while their model loads. */
  public int held(String model) {
    java.util.Set<Waiter> set = holds.get(model);
    return set == null ? 0 : set.size();
  }

  /** A request of {@code model} ended here: the oldest waiter tries again. */
  public void capacityFreed(String model) {
    Deque<Waiter> queue = queues.get(model);
    Waiter next = queue == null ? null : queue.pollFirst();
    if (queue != null) {
      dropIfEmpty(model, queue);
    }
    if (next != null && !next.done) {
      next.retry.run();
    }
  }

  private void dropIfEmpty(String model, Deque<Waiter> queue) {
    if (queue.isEmpty()) {
      queues.remove(model, queue);
    }
  }

  /** Requests waiting for the model now: in its line, and held while it loads. */
  public int waiting(String model) {
    Deque<Waiter> queue = queues.get(model);
    return (queue == null ? 0 : queue.size()) + held(model);
  }

  /** Requests waiting now, per model: each of {@code served} (0 if none waits) and any other with a line. */
  public java.util.Map<String, Integer> waitingByModel(java.util.Collection<String> served) {
    java.util.Map<String, Integer> waiting = new java.util.TreeMap<>();
    served.forEach(model -> waiting.put(model, 0));
    queues.forEach((model, queue) -> waiting.put(model, queue.size()));
    holds.forEach((model, set) -> waiting.merge(model, set.size(), Integer::sum));
    return waiting;
  }

  /** Models with a line now (someone waits in it). */
  public int lines() {
    java.util.Set<String> models = new java.util.HashSet<>(queues.keySet());
    models.addAll(holds.keySet());
    return models.size();
  }

  public int maxWaitingPerModel() {
    return maxWaitingPerModel;
  }

  private void ensurePolling(String model) {
    if (pollTimers.containsKey(model)) {
      return;
    }
    pollTimers.put(model, vertx.setPeriodic(pollMs, id -> {
      if (!queues.containsKey(model)) {
        vertx.cancelTimer(id);
        pollTimers.remove(model);
        return;
      }
      capacityFreed(model);
    }));
  }

  /** Stops the polling timers (the gateway is stopping). */
  public void close() {
    pollTimers.values().forEach(vertx::cancelTimer);
    pollTimers.clear();
  }
}
