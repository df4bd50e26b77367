package io.switchboard.options.processor;

/**
 * One setting of a spec: its field name, its type as the source writes it, how its JSON is read and written (null
 * when the spec does it by hand), whether the generated JSON covers it, its Javadoc (null when it has none), and the
 * Java of the checks its annotations ask for.
 */
record Setting(String name, String type, SettingKind kind, boolean inJson, String doc, java.util.List<String> checks) {

  String capitalized() {
    return Character.toUpperCase(name.charAt(0)) + name.substring(1);
  }

  String getterName() {
    return ("boolean".equals(type) ? "is" : "get") + capitalized();
  }

  String setterName() {
    return "set" + capitalized();
  }
}
