package io.switchboard.runtime.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Function;

/**
 * The JSON forms of the collection settings, as the generated options classes read and write them (see
 * {@link GenerateOptions}). Reading keeps what has the element type and leaves the rest: the config loader has already
 * refused a value of the wrong type, with its key.
 */
public final class OptionsJson {

  private OptionsJson() {
  }

  /** The strings of {@code array}, in order. */
  public static List<String> strings(JsonArray array) {
    List<String> strings = new ArrayList<>(array.size());
    for (Object item : array) {
      if (item instanceof String text) {
        strings.add(text);
      }
    }
    return strings;
  }

  /** The objects of {@code array}, each read by {@code reader}, in order. */
  public static <T> List<T> readObjects(JsonArray array, Function<JsonObject, T> reader) {
    List<T> objects = new ArrayList<>(array.size());
    for (Object item : array) {
      if (item instanceof JsonObject object) {
        objects.add(reader.apply(object));
      }
    }
    return objects;
  }

  /** {@code values} as a JSON array; null stays null. */
  public static JsonArray array(Collection<String> values) {
    return values == null ? null : new JsonArray(new ArrayList<>(values));
  }

  /** {@code values}, each written by {@code writer}, as a JSON array; null stays null. */
  public static <T> JsonArray writeObjects(List<T> values, Function<T, JsonObject> writer) {
    if (values == null) {
      return null;
    }
    JsonArray array = new JsonArray();
    for (T value : values) {
      array.add(writer.apply(value));
    }
    return array;
  }
}
