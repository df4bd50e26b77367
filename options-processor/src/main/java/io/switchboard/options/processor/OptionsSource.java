package io.switchboard.options.processor;

import java.util.List;
import java.util.Set;

/** The Java source of one generated options class. */
final class OptionsSource {

  private final String pkg;
  private final String name;
  private final String specName;
  private final List<String> imports;
  private final StringBuilder out = new StringBuilder();

  OptionsSource(String pkg, String name, String specName, List<String> imports) {
    this.pkg = pkg;
    this.name = name;
    this.specName = specName;
    this.imports = imports;
  }

  /**
   * @param declared the spec's own methods as {@code name/parameterCount}: accessors it declares are not generated
   * @param validateAccess the access of the spec's {@code validate(String)}, which the generated one extends; null when
   *     the spec has none
   */
  String render(List<Setting> settings, boolean json, boolean readHook, boolean writeHook, Set<String> declared,
      String validateAccess) {
    line("package " + pkg + ";");
    line("");
    for (String imported : imports) {
      line("import " + imported + ";");
    }
    line("");
    line("/**");
    line(" * The options declared by {@link " + specName + "}, with their accessors" + (json ? " and JSON" : "")
        + ". Written by the options processor at");
    line(" * compile time: change the spec, not this class.");
    line(" */");
    line("@javax.annotation.processing.Generated(\"io.switchboard.options.processor.OptionsProcessor\")");
    line("public class " + name + " extends " + specName + " {");
    line("");
    line("  public " + name + "() {");
    line("  }");
    if (json) {
      renderJson(settings, readHook, writeHook);
    }
    renderChecks(settings, validateAccess);
    for (Setting setting : settings) {
      renderAccessors(setting, declared);
    }
    line("}");
    return out.toString();
  }

  private void renderJson(List<Setting> settings, boolean readHook, boolean writeHook) {
    line("");
    line("  /** Reads the settings {@code json} names; a setting it leaves out keeps its default. */");
    line("  public " + name + "(io.vertx.core.json.JsonObject json) {");
    for (Setting setting : settings) {
      if (!setting.inJson()) {
        continue;
      }
      SettingKind kind = setting.kind();
      line("    if (json.getValue(\"" + setting.name() + "\") instanceof " + kind.jsonType() + " value) {");
      line("      " + setting.setterName() + "(" + kind.read(setting.type()) + ");");
      line("    }");
    }
    if (readHook) {
      line("    readJson(json);");
    }
    line("  }");
    line("");
    line("  /** Every setting under its key, null when unset: the config loader derives the environment variables from"
        + " these keys. */");
    line("  public io.vertx.core.json.JsonObject toJson() {");
    line("    io.vertx.core.json.JsonObject json = new io.vertx.core.json.JsonObject();");
    if (writeHook) {
      line("    writeJson(json);");
    }
    for (Setting setting : settings) {
      if (setting.inJson()) {
        line("    json.put(\"" + setting.name() + "\", " + setting.kind().write(setting.name(), setting.type()) + ");");
      }
    }
    line("    return json;");
    line("  }");
  }

  private void renderChecks(List<Setting> settings, String validateAccess) {
    if (settings.stream().allMatch(setting -> setting.checks().isEmpty())) {
      return;
    }
    boolean specChecks = validateAccess != null;
    line("");
    line(specChecks ? "  /** The settings' declared ranges, then the spec's own checks. */"
        : "  /** Fails with a message naming the key under {@code path} and the range it accepts. */");
    if (specChecks) {
      line("  @Override");
    }
    line("  " + (specChecks ? validateAccess : "public ") + "void validate(String path) {");
    for (Setting setting : settings) {
      for (String check : setting.checks()) {
        line("    " + check);
      }
    }
    if (specChecks) {
      line("    super.validate(path);");
    }
    line("  }");
  }

  private void renderAccessors(Setting setting, Set<String> declared) {
    if (!declared.contains(setting.getterName() + "/0")) {
      line("");
      if (setting.doc() != null && !setting.doc().isBlank()) {
        line("  /**");
        for (String docLine : setting.doc().strip().split("\n")) {
          line(("   * " + docLine.strip()).stripTrailing());
        }
        line("   */");
      }
      line("  public " + setting.type() + " " + setting.getterName() + "() {");
      line("    return " + setting.name() + ";");
      line("  }");
    }
    if (!declared.contains(setting.setterName() + "/1")) {
      String stored = setting.kind() == null ? setting.name() : setting.kind().stored(setting.name());
      line("");
      line("  /** Sets {@link #" + setting.getterName() + "()}. */");
      line("  public " + name + " " + setting.setterName() + "(" + setting.type() + " " + setting.name() + ") {");
      line("    this." + setting.name() + " = " + stored + ";");
      line("    return this;");
      line("  }");
    }
  }

  private void line(String text) {
    out.append(text).append('\n');
  }
}
