package io.switchboard.gateway.dialect.responses.store;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Stored responses in this gateway's memory only: bounded (the least recently used entry goes first once it holds
 * {@code maxEntries}) and each entry expires {@code ttlMs} after it was stored. For a gateway not in a cluster; a
 * clustered gateway needs a store every gateway sees, or a chained request that lands on another gateway finds
 * nothing. Thread-safe (one lock); entries are copied in and out, so callers cannot change what is stored.
 */
public final class LocalResponseStore implements ResponseStore {

  public static final int DEFAULT_MAX_ENTRIES = 10_000;
  public static final long DEFAULT_TTL_MS = 60 * 60 * 1000L;

  private final long ttlMs;
  private final LongSupplier clockMs;
  private final Map<String, Entry> entries;

  private record Entry(JsonObject stored, long expiresAtMs) {
  }

  public LocalResponseStore() {
    this(DEFAULT_MAX_ENTRIES, DEFAULT_TTL_MS, System::currentTimeMillis);
  }

  public LocalResponseStore(int maxEntries, long ttlMs, LongSupplier clockMs) {
    if (maxEntries < 1 || ttlMs < 1) {
      throw new IllegalArgumentException("maxEntries and ttlMs must be positive");
    }
    this.ttlMs = ttlMs;
    this.clockMs = clockMs;
    this.entries = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
        return size() > maxEntries;
      }
    };
  }

  @Override
  public synchronized Future<Void> put(String id, JsonObject stored) {
    entries.put(id, new Entry(stored.copy(), clockMs.getAsLong() + ttlMs));
    return Future.succeededFuture();
  }

  @Override
  public synchronized Future<JsonObject> get(String id) {
    Entry entry = live(id);
    return Future.succeededFuture(entry == null ? null : entry.stored().copy());
  }

  @Override
  public synchronized Future<Boolean> remove(String id) {
    boolean present = live(id) != null;
    entries.remove(id);
    return Future.succeededFuture(present);
  }

  public synchronized int size() {
    return entries.size();
  }

  private Entry live(String id) {
    Entry entry = entries.get(id);
    if (entry != null && entry.expiresAtMs() <= clockMs.getAsLong()) {
      entries.remove(id);
      return null;
    }
    return entry;
  }
}
