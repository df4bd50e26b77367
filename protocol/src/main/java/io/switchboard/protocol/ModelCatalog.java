package io.switchboard.protocol;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * The models a worker can serve from its model directory, with each one's size and state: in the worker's record
 * ({@link WorkerDescriptor#catalog()}, the states at publish time) and in every load report
 * ({@link LoadReport#catalog()}, the states now). On the wire it is the object under the key {@code library};
 * workers without a model directory send none, and readers of an older version skip it.
 *
 * @param models at most the worker's {@code llamacpp.maxListedModels} entries, sorted by name
 * @param total  how many models the directory holds; more than {@code models.size()} when the list was capped
 */
public record ModelCatalog(List<ModelEntry> models, int total) {

  public static final String KEY = "library";
  public static final ModelCatalog EMPTY = new ModelCatalog(List.of(), 0);

  public ModelCatalog {
    models = models == null ? List.of() : List.copyOf(models);
    total = Math.max(total, models.size());
  }

  public boolean isEmpty() {
    return models.isEmpty() && total == 0;
  }

  /** True when the worker holds more models than it lists. */
  public boolean truncated() {
    return total > models.size();
  }

  public ModelEntry find(String name) {
    for (ModelEntry entry : models) {
      if (entry.name().equals(name)) {
        return entry;
      }
    }
    return null;
  }

  public JsonObject toJson() {
    JsonArray list = new JsonArray(new ArrayList<>(models.size()));
    models.forEach(entry -> list.add(entry.toJson()));
    return new JsonObject().put("total", total).put("models", list);
  }

  /** Null or not an object: {@link #EMPTY}. Entries that are not objects are skipped. */
  public static ModelCatalog fromJson(Object json) {
    if (!(json instanceof JsonObject object)) {
      return EMPTY;
    }
    JsonArray list = object.getJsonArray("models", new JsonArray());
    List<ModelEntry> models = new ArrayList<>(list.size());
    for (Object item : list) {
      if (item instanceof JsonObject entry && entry.getString("name") != null) {
        models.add(ModelEntry.fromJson(entry));
      }
    }
    return new ModelCatalog(models, object.getInteger("total", models.size()));
  }
}
