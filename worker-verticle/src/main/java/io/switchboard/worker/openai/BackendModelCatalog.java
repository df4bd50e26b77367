package io.switchboard.worker.openai;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The models a backend serves, as clients see them: read from its {@code /v1/models} answer, narrowed to the
 * configured {@code models} (when any), renamed by {@code aliases} (backend name to served name), and which of
 * them answer embeddings. Pure bookkeeping, no I/O; used on the worker's event loop.
 */
public final class BackendModelCatalog {

  /** One served model: the name clients use, the backend's own name, and what the backend said of it. */
  public record Entry(String served, String backendId, String ownedBy, Integer maxModelLen) {
    JsonObject toJson() {
      JsonObject json = new JsonObject().put("id", served).put("backendId", backendId);
      if (ownedBy != null) {
        json.put("ownedBy", ownedBy);
      }
      if (maxModelLen != null) {
        json.put("maxModelLen", maxModelLen);
      }
      return json;
    }
  }

  private final Set<String> allowed;
  private final Map<String, String> aliases;
  private final Set<String> embeddingNames;
  private Map<String, Entry> entries = Map.of();
  private List<String> skipped = List.of();

  /**
   * @param allowed        backend model names to serve (empty: all)
   * @param aliases        backend model name to the name clients use
   * @param embeddingNames served or backend names that answer /v1/embeddings; "*" for all
   */
  public BackendModelCatalog(List<String> allowed, Map<String, String> aliases, List<String> embeddingNames) {
    this.allowed = Set.copyOf(allowed);
    this.aliases = Map.copyOf(aliases);
    this.embeddingNames = Set.copyOf(embeddingNames);
  }

  /**
   * Replaces the catalog with what a {@code /v1/models} answer lists. Fails with a message for an answer that is
   * not OpenAI's list shape (the catalog is then left as it was).
   */
  public void update(JsonObject answer) {
    JsonArray data = answer.getJsonArray("data");
    if (data == null) {
      // Ollama's native /api/tags has "models"; everything OpenAI-compatible has "data".
      throw new IllegalArgumentException("the /v1/models answer has no 'data' list (is this an OpenAI-compatible "
          + "server? keys: " + answer.fieldNames() + ")");
    }
    Map<String, Entry> next = new LinkedHashMap<>();
    List<String> notServed = new ArrayList<>();
    for (int i = 0; i < data.size(); i++) {
      if (!(data.getValue(i) instanceof JsonObject model) || model.getString("id") == null) {
        continue;
      }
      String id = model.getString("id");
      if (!allowed.isEmpty() && !allowed.contains(id)) {
        notServed.add(id);
        continue;
      }
      String served = aliases.getOrDefault(id, id);
      Object maxLen = model.getValue("max_model_len");
      next.put(served, new Entry(served, id, model.getString("owned_by"),
          maxLen instanceof Number number ? number.intValue() : null));
    }
    entries = next;
    skipped = notServed;
  }

  /** Names clients use, in the backend's order. */
  public List<String> served() {
    return List.copyOf(entries.keySet());
  }

  public List<String> embeddingModels() {
    List<String> result = new ArrayList<>();
    for (Entry entry : entries.values()) {
      if (embeddingNames.contains("*") || embeddingNames.contains(entry.served())
          || embeddingNames.contains(entry.backendId())) {
        result.add(entry.served());
      }
    }
    return result;
  }

  /** The backend's name of a served model; null when this catalog does not serve it. */
  public String backendId(String served) {
    Entry entry = entries.get(served);
    return entry == null ? null : entry.backendId();
  }

  /** What the backend calls itself through {@code owned_by} of its first model; null when it says nothing. */
  public String ownedBy() {
    return entries.values().stream().map(Entry::ownedBy).filter(o -> o != null && !o.isEmpty()).findFirst()
        .orElse(null);
  }

  public boolean isEmpty() {
    return entries.isEmpty();
  }

  /** Backend models left out by the configured {@code models} list, sorted, so operators see what exists. */
  public Set<String> skipped() {
    return new TreeSet<>(skipped);
  }

  public JsonArray toJson() {
    JsonArray list = new JsonArray();
    entries.values().forEach(entry -> list.add(entry.toJson()
        .put("embeddings", embeddingModels().contains(entry.served()))));
    return list;
  }
}
