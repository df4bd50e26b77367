package io.switchboard.worker.llamacpp;

import io.switchboard.runtime.config.GenerateOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Settings of one model of a model directory ({@code workers[N].llamacpp.models[M]}): which model (by its name, the
 * file name without {@code .gguf}) and how its llama-server runs. Unset values take the worker's.
 */
@GenerateOptions(json = false)
public abstract class ModelSettingsSpec {

  /** Context size 0: the worker's {@code llamacpp.contextSize}. */
  public static final int DEFAULT_CONTEXT_SIZE = 0;
  /** GPU layers -1: llama-server's own default ({@code -ngl} not passed). */
  public static final int DEFAULT_GPU_LAYERS = -1;
  static final Set<String> KEYS = Set.of("name", "contextSize", "gpuLayers", "mmproj", "chatTemplate",
      "chatTemplateFile", "aliases");

  String name;
  int contextSize = DEFAULT_CONTEXT_SIZE;
  int gpuLayers = DEFAULT_GPU_LAYERS;
  String mmproj;
  String chatTemplate;
  String chatTemplateFile;
  List<String> aliases = List.of();

  /**
   * One model's settings from the config: strict, unlike the generated options, because a typo in a model's entry
   * must not be silently ignored.
   *
   * @throws IllegalArgumentException on a key it does not know, or a value of the wrong type
   */
  public static ModelSettings read(JsonObject json, String path) {
    ModelSettings settings = new ModelSettings();
    for (String key : json.fieldNames()) {
      if (!KEYS.contains(key)) {
        throw new IllegalArgumentException("unknown key '" + path + "." + key + "' (known: " + new TreeSet<>(KEYS)
            + ")");
      }
    }
    try {
      settings.name = json.getString("name");
      settings.contextSize = json.getInteger("contextSize", DEFAULT_CONTEXT_SIZE);
      settings.gpuLayers = json.getInteger("gpuLayers", DEFAULT_GPU_LAYERS);
      settings.mmproj = json.getString("mmproj");
      settings.chatTemplate = json.getString("chatTemplate");
      settings.chatTemplateFile = json.getString("chatTemplateFile");
      Object given = json.getValue("aliases");
      if (given instanceof JsonArray list) {
        settings.aliases = list.stream().map(String::valueOf).map(String::trim).toList();
      } else if (given instanceof String text) {
        // From the environment: comma-separated.
        settings.aliases = List.of(text.split(",")).stream().map(String::trim).filter(s -> !s.isEmpty()).toList();
      } else if (given != null) {
        throw new IllegalArgumentException(path + ".aliases must be a list of names, got '" + given + "'");
      }
    } catch (ClassCastException wrongType) {
      throw new IllegalArgumentException(path + " has a setting of the wrong type (" + wrongType.getMessage()
          + "): name, mmproj, chatTemplate and chatTemplateFile are text, contextSize and gpuLayers whole numbers, "
          + "aliases a list of names");
    }
    return settings;
  }

  public JsonObject toJson() {
    return new JsonObject().put("name", name).put("contextSize", contextSize).put("gpuLayers", gpuLayers)
        .put("mmproj", mmproj).put("chatTemplate", chatTemplate).put("chatTemplateFile", chatTemplateFile)
        .put("aliases", new JsonArray(new ArrayList<>(aliases)));
  }

  void validate(String path) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException(path + ".name must name a model of the directory (its file name without "
          + ".gguf)");
    }
    if (contextSize != 0 && contextSize < 16) {
      throw new IllegalArgumentException(path + ".contextSize must be 0 (the worker's contextSize) or >= 16, got "
          + contextSize);
    }
    if (gpuLayers < -1) {
      throw new IllegalArgumentException(path + ".gpuLayers must be -1 (llama-server's default) or >= 0, got "
          + gpuLayers);
    }
    if (chatTemplate != null && chatTemplateFile != null) {
      throw new IllegalArgumentException(path + " sets both chatTemplate (a built-in template's name) and "
          + "chatTemplateFile (a Jinja file); set one");
    }
    requireFile(path + ".mmproj", mmproj);
    requireFile(path + ".chatTemplateFile", chatTemplateFile);
    for (String alias : aliases) {
      if (alias.isBlank()) {
        throw new IllegalArgumentException(path + ".aliases holds an empty name");
      }
    }
  }

  private static void requireFile(String key, String file) {
    if (file != null && !Files.isRegularFile(Path.of(file))) {
      throw new IllegalArgumentException(key + " is not a readable file: '" + file + "'");
    }
  }
}
