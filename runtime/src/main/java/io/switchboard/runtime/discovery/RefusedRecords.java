package io.switchboard.runtime.discovery;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The discovery records a reader refused lately and why, for the operator's views and for logging each refusal
 * once. Bounded: anyone who joins the cluster can write records, so at most {@code limit} are kept (the others
 * are only counted). Not thread-safe: used on its owner's event loop.
 */
public final class RefusedRecords {

  private record Refusal(String type, String name, String nodeId, String reason, long sinceMs) {
  }

  private final int limit;
  private final Map<String, Refusal> kept = new LinkedHashMap<>();
  private int notKeptThisRead;
  private int notKept;

  public RefusedRecords(int limit) {
    this.limit = limit;
  }

  /**
   * Notes that the record (its JSON form) with key {@code key} (its registration) is refused for {@code why}.
   * True when this is news: a record not seen refused before, or for another reason; the caller logs it then.
   */
  public boolean refused(String key, JsonObject record, String why, long nowMs) {
    String reason = cut(why, 500);
    Refusal before = kept.get(key);
    if (before != null) {
      if (Objects.equals(before.reason(), reason)) {
        return false;
      }
      kept.put(key, new Refusal(before.type(), before.name(), before.nodeId(), reason, nowMs));
      return true;
    }
    if (kept.size() >= limit) {
      notKeptThisRead++;
      return false;
    }
    Object metadata = record.getValue("metadata");
    Object nodeId = metadata instanceof JsonObject json ? json.getValue("nodeId") : null;
    kept.put(key, new Refusal(text(record.getValue("type")), text(record.getValue("name")), text(nodeId), reason,
        nowMs));
    return true;
  }

  /** Forgets records no longer present; call after each full read with every key read. */
  public void retain(Set<String> present) {
    kept.keySet().retainAll(present);
    notKept = notKeptThisRead;
    notKeptThisRead = 0;
  }

  /** Refused records beyond the limit in the last full read (not kept, not logged one by one). */
  public int notKept() {
    return notKept;
  }

  public int size() {
    return kept.size();
  }

  public JsonArray toJson() {
    JsonArray list = new JsonArray();
    for (Refusal refusal : kept.values()) {
      list.add(new JsonObject().put("type", refusal.type()).put("name", refusal.name()).put("node", refusal.nodeId())
          .put("reason", refusal.reason()).put("sinceMs", refusal.sinceMs()));
    }
    return list;
  }

  /** Strings as given, anything else by its text, cut to 200 characters. */
  private static String text(Object value) {
    return value == null ? null : cut(value instanceof String s ? s : String.valueOf(value), 200);
  }

  /** A record's fields are anyone's: what is kept and logged of them is cut to a length. */
  public static String cut(String text, int max) {
    return text == null || text.length() <= max ? text : text.substring(0, max) + "...";
  }
}
