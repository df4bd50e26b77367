package io.switchboard.worker.llamacpp;

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
public class ModelSettings {

  /** Context size 0: the worker's {@code llamacpp.contextSize}. */
  public static final int DEFAULT_CONTEXT_SIZE = 0;
  /** GPU layers -1: llama-server's own default ({@code -ngl} not passed). */
  public static final int DEFAULT_GPU_LAYERS = -1;
  static final Set<String> KEYS = Set.of("name", "contextSize", "gpuLayers", "mmproj", "chatTemplate",
      "chatTemplateFile", "aliases");

  private String name;
  private int contextSize = DEFAULT_CONTEXT_SIZE;
  private int gpuLayers = DEFAULT_GPU_LAYERS;
  private String mmproj;
  private String chatTemplate;
  private String chatTemplateFile;
  private List<String> aliases = List.of();

  public ModelSettings() {
  }

  /** @throws IllegalArgumentException on a key it does not know (a typo must not be silently ignored) */
  public ModelSettings(JsonObject json, String path) {
    for (String key : json.fieldNames()) {
      if (!KEYS.contains(key)) {
        throw new IllegalArgumentException("unknown key '" + path + "." + key + "' (known: " + new TreeSet<>(KEYS)
            + ")");
      }
    }
    try {
      name = json.getString("name");
      contextSize = json.getInteger("contextSize", DEFAULT_CONTEXT_SIZE);
      gpuLayers = json.getInteger("gpuLayers", DEFAULT_GPU_LAYERS);
      mmproj = json.getString("mmproj");
      chatTemplate = json.getString("chatTemplate");
      chatTemplateFile = json.getString("chatTemplateFile");
      Object given = json.getValue("aliases");
      if (given instanceof JsonArray list) {
        aliases = list.stream().map(String::valueOf).map(String::trim).toList();
      } else if (given instanceof String text) {
        // From the environment: comma-separated.
        aliases = List.of(text.split(",")).stream().map(String::trim).filter(s -> !s.isEmpty()).toList();
      } else if (given != null) {
        throw new IllegalArgumentException(path + ".aliases must be a list of names, got '" + given + "'");
      }
    } catch (ClassCastException wrongType) {
      throw new IllegalArgumentException(path + " has a setting of the wrong type (" + wrongType.getMessage()
          + "): name, mmproj, chatTemplate and chatTemplateFile are text, contextSize and gpuLayers whole numbers, "
          + "aliases a list of names");
    }
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

  public String getName() {
    return name;
  }

  public ModelSettings setName(String name) {
    this.name = name;
    return this;
  }

  public int getContextSize() {
    return contextSize;
  }

  public ModelSettings setContextSize(int contextSize) {
    this.contextSize = contextSize;
    return this;
  }

  public int getGpuLayers() {
    return gpuLayers;
  }

  public ModelSettings setGpuLayers(int gpuLayers) {
    this.gpuLayers = gpuLayers;
    return this;
  }

  public String getMmproj() {
    return mmproj;
  }

  public ModelSettings setMmproj(String mmproj) {
    this.mmproj = mmproj;
    return this;
  }

  public String getChatTemplate() {
    return chatTemplate;
  }

  public ModelSettings setChatTemplate(String chatTemplate) {
    this.chatTemplate = chatTemplate;
    return this;
  }

  public String getChatTemplateFile() {
    return chatTemplateFile;
  }

  public ModelSettings setChatTemplateFile(String chatTemplateFile) {
    this.chatTemplateFile = chatTemplateFile;
    return this;
  }

  public List<String> getAliases() {
    return aliases;
  }

  public ModelSettings setAliases(List<String> aliases) {
    this.aliases = List.copyOf(aliases);
    return this;
  }
}
