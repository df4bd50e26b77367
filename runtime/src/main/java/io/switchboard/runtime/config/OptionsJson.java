package io.switchboard.runtime.config;

import io.vertx.core.json.JsonObject;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.HashSet;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * An options object's JSON as the node's config loader needs it. Vert.x's generated converters leave a setting out
 * while its value is null; the loader knows the settings (and gives each its environment variable) by the keys of
 * {@code new NodeOptions().toJson()}, so here every setting that has a setter gets a key, null when unset. Keys
 * follow the order the class declares its fields, so a dump of the config reads in the same order as the class.
 */
public final class OptionsJson {

  private OptionsJson() {
  }

  /** What {@code converter} writes for {@code options}, with a null key for each unset setting. */
  public static <T> JsonObject write(T options, BiConsumer<T, JsonObject> converter) {
    JsonObject converted = new JsonObject();
    converter.accept(options, converted);
    Set<String> settable = settableNames(options.getClass());
    JsonObject json = new JsonObject();
    for (Field field : options.getClass().getDeclaredFields()) {
      String name = field.getName();
      if (Modifier.isStatic(field.getModifiers())) {
        continue;
      }
      if (converted.containsKey(name)) {
        json.put(name, converted.getValue(name));
      } else if (settable.contains(name)) {
        json.putNull(name);
      }
    }
    converted.forEach(entry -> {
      if (!json.containsKey(entry.getKey())) {
        json.put(entry.getKey(), entry.getValue());
      }
    });
    return json;
  }

  private static Set<String> settableNames(Class<?> type) {
    Set<String> names = new HashSet<>();
    for (Method method : type.getMethods()) {
      String name = method.getName();
      if (name.length() > 3 && name.startsWith("set") && method.getParameterCount() == 1
          && !Modifier.isStatic(method.getModifiers())) {
        names.add(Character.toLowerCase(name.charAt(3)) + name.substring(4));
      }
    }
    return names;
  }
}
