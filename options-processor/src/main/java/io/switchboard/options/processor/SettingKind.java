package io.switchboard.options.processor;

/**
 * The shapes of setting the generated JSON knows, with the Java it writes for each: the test a JSON value must pass
 * to be read (a value of another type is left to the config loader, which names the key and the type it wants), the
 * value read, the value written, and the copy a setter keeps of a collection.
 */
enum SettingKind {
  INT("Number", "value.intValue()"),
  LONG("Number", "value.longValue()"),
  DOUBLE("Number", "value.doubleValue()"),
  BOOLEAN("Boolean", "value"),
  STRING("String", "value"),
  STRING_LIST("io.vertx.core.json.JsonArray", "io.switchboard.runtime.config.OptionsJson.strings(value)"),
  STRING_SET("io.vertx.core.json.JsonArray",
      "new java.util.LinkedHashSet<>(io.switchboard.runtime.config.OptionsJson.strings(value))"),
  OBJECT_LIST("io.vertx.core.json.JsonArray", "io.switchboard.runtime.config.OptionsJson.readObjects(value, %s::new)"),
  OBJECT("io.vertx.core.json.JsonObject", "new %s(value)");

  private final String jsonType;
  private final String read;

  SettingKind(String jsonType, String read) {
    this.jsonType = jsonType;
    this.read = read;
  }

  /** The kind of a type as written in source; null when the generated JSON has no form for it. */
  static SettingKind of(String type) {
    String t = type.replace(" ", "");
    switch (t) {
      case "int":
        return INT;
      case "long":
        return LONG;
      case "double":
        return DOUBLE;
      case "boolean":
        return BOOLEAN;
      case "String":
        return STRING;
      case "List<String>":
        return STRING_LIST;
      case "Set<String>":
        return STRING_SET;
      default:
        if (t.startsWith("List<") && t.endsWith(">") && isOptionsName(t.substring(5, t.length() - 1))) {
          return OBJECT_LIST;
        }
        return isOptionsName(t) ? OBJECT : null;
    }
  }

  /** An options type: a plain class name (an options class or another data object with a JSON constructor). */
  private static boolean isOptionsName(String name) {
    return name.matches("[A-Z][A-Za-z0-9_]*") && !name.equals("String") && !name.equals("Map")
        && !name.equals("Object") && !name.matches("Integer|Long|Double|Boolean|List|Set");
  }

  String jsonType() {
    return jsonType;
  }

  /** Java reading the JSON value {@code value} (already of {@link #jsonType}) into the setting's type. */
  String read(String type) {
    return read.replace("%s", element(type));
  }

  /** Java writing the field {@code field} as a JSON value (null stays null). */
  String write(String field, String type) {
    switch (this) {
      case STRING_LIST:
      case STRING_SET:
        return "io.switchboard.runtime.config.OptionsJson.array(" + field + ")";
      case OBJECT_LIST:
        return "io.switchboard.runtime.config.OptionsJson.writeObjects(" + field + ", " + element(type) + "::toJson)";
      case OBJECT:
        return field + " == null ? null : " + field + ".toJson()";
      default:
        return field;
    }
  }

  /** Java a setter stores for {@code value}: collections are copied, so a caller's list is never shared. */
  String stored(String value) {
    switch (this) {
      case STRING_LIST:
      case OBJECT_LIST:
        return "new java.util.ArrayList<>(" + value + ")";
      case STRING_SET:
        return "new java.util.LinkedHashSet<>(" + value + ")";
      default:
        return value;
    }
  }

  private static String element(String type) {
    String t = type.replace(" ", "");
    return t.startsWith("List<") ? t.substring(5, t.length() - 1) : t;
  }
}
