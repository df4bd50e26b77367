package io.switchboard.gateway.exchange;

import io.switchboard.gateway.routing.Pick;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.Usage;

import java.util.ArrayList;
import java.util.List;

/**
 * A gateway's exchange listeners, told of each event in the order they were given. Made once per gateway; the
 * exchange calls it as it would one listener. Per-event delivery allocates nothing (indexed loops over arrays), and
 * the per-chunk event only reaches the listeners that take it.
 */
public final class ExchangeListeners implements ExchangeListener {

  private static final ExchangeListener[] NONE = new ExchangeListener[0];

  private final ExchangeListener[] all;
  /** Those that override {@link #interToken}: it comes for every piece of text, the rest would ignore it. */
  private final ExchangeListener[] perChunk;

  public ExchangeListeners(List<? extends ExchangeListener> listeners) {
    this.all = listeners.toArray(NONE);
    List<ExchangeListener> chunkListeners = new ArrayList<>();
    for (ExchangeListener listener : all) {
      if (overridesInterToken(listener)) {
        chunkListeners.add(listener);
      }
    }
    this.perChunk = chunkListeners.toArray(NONE);
  }

  private static boolean overridesInterToken(ExchangeListener listener) {
    try {
      return listener.getClass().getMethod("interToken", ExchangeFacts.class, long.class).getDeclaringClass()
          != ExchangeListener.class;
    } catch (NoSuchMethodException impossible) {
      return true;
    }
  }

  /** How many listeners {@link #interToken} reaches. */
  int perChunkCount() {
    return perChunk.length;
  }

  @Override
  public void started(ExchangeFacts exchange) {
    for (int i = 0; i < all.length; i++) {
      all[i].started(exchange);
    }
  }

  @Override
  public void routed(ExchangeFacts exchange, String policy, Pick pick, int promptChars) {
    for (int i = 0; i < all.length; i++) {
      all[i].routed(exchange, policy, pick, promptChars);
    }
  }

  @Override
  public void attemptFailed(ExchangeFacts exchange, GenerateError refusal) {
    for (int i = 0; i < all.length; i++) {
      all[i].attemptFailed(exchange, refusal);
    }
  }

  @Override
  public void queued(ExchangeFacts exchange) {
    for (int i = 0; i < all.length; i++) {
      all[i].queued(exchange);
    }
  }

  @Override
  public void firstToken(ExchangeFacts exchange, long sinceStartNanos) {
    for (int i = 0; i < all.length; i++) {
      all[i].firstToken(exchange, sinceStartNanos);
    }
  }

  @Override
  public void interToken(ExchangeFacts exchange, long gapNanos) {
    for (int i = 0; i < perChunk.length; i++) {
      perChunk[i].interToken(exchange, gapNanos);
    }
  }

  @Override
  public void migrated(ExchangeFacts exchange, GenerateError failure) {
    for (int i = 0; i < all.length; i++) {
      all[i].migrated(exchange, failure);
    }
  }

  @Override
  public void fellBack(ExchangeFacts exchange, String from, String to, String why) {
    for (int i = 0; i < all.length; i++) {
      all[i].fellBack(exchange, from, to, why);
    }
  }

  @Override
  public void generationEnded(ExchangeFacts exchange, Usage usage, int completionTokensSoFar) {
    for (int i = 0; i < all.length; i++) {
      all[i].generationEnded(exchange, usage, completionTokensSoFar);
    }
  }

  @Override
  public void finished(ExchangeOutcome outcome) {
    for (int i = 0; i < all.length; i++) {
      all[i].finished(outcome);
    }
  }
}
