package io.switchboard.gateway.models;

import io.switchboard.runtime.config.GenerateOptions;
import io.switchboard.runtime.config.ReadByHand;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The gateway's model names beside the ones workers serve ({@code gateway.models}): aliases, each naming served models
 * in the order a request for the alias tries them, and whether a prompt estimated too long for a model's context
 * passes over to the next. No aliases by default.
 *
 * <pre>
 * gateway:
 *   models:
 *     aliases:
 *       chat: [qwen-32b, qwen-7b]
 *     contextFallback: true
 * </pre>
 *
 * From the environment: {@code SWITCHBOARD_GATEWAY_MODELS_ALIASES="chat=qwen-32b|qwen-7b,code=qwen-coder"}.
 */
@GenerateOptions
public abstract class ModelsOptionsSpec {

  /** No aliases: every model is asked for by the name its workers serve. */
  public static final Map<String, List<String>> DEFAULT_ALIASES = Map.of();

  /** Alias to its models, in the order written; validated by {@link #validate}. */
  @ReadByHand
  Map<String, List<String>> aliases = new LinkedHashMap<>();
  /**
   * A request for an alias passes over a model whose every worker reports a context length the prompt is estimated
   * to exceed (never the alias's last model: its worker says so, with its own tokenizer).
   */
  boolean contextFallback = true;
  /** What {@link #validate} found wrong with the JSON given, before it was read as a map (a wrong type). */
  private transient String malformed;
  private transient ModelAliases validated;

  /**
   * {@code aliases} is read by hand (not generated): the converter has no map of lists, a list may come as the
   * environment's MODEL|MODEL text, and a malformed value must wait for {@link #validate}, which knows the path.
   */
  protected void readJson(JsonObject json) {
    Object given = json.getValue("aliases");
    if (given instanceof JsonObject map) {
      readAliases(map);
    } else if (given != null) {
      malformed = " must be a mapping of alias to its list of models, e.g. {chat: [qwen-32b, qwen-7b]}, got '"
          + given + "'";
    }
  }

  private void readAliases(JsonObject map) {
    for (String alias : map.fieldNames()) {
      Object targets = map.getValue(alias);
      List<String> models = new ArrayList<>();
      if (targets instanceof JsonArray list) {
        for (Object target : list) {
          models.add(target instanceof String name ? name : target == null ? null : String.valueOf(target));
        }
      } else if (targets instanceof String text) {
        // The environment's form, MODEL|MODEL, also accepted in a file.
        for (String part : text.split("\\|", -1)) {
          models.add(part.trim());
        }
        if (text.isBlank()) {
          models.clear();
        }
      } else if (targets != null) {
        malformed = "." + alias + " must be a list of model names, got '" + targets + "'";
        return;
      }
      aliases.put(alias, models);
    }
  }

  protected void writeJson(JsonObject json) {
    JsonObject map = new JsonObject();
    aliases.forEach((alias, models) -> map.put(alias, new JsonArray(new ArrayList<>(models))));
    json.put("aliases", map);
  }

  /**
   * Checks every alias (see {@link ModelAliases#of}); a configuration error names the alias and the fix.
   *
   * @throws IllegalArgumentException with {@code path} in its message
   */
  public void validate(String path) {
    if (malformed != null) {
      throw new IllegalArgumentException(path + ".aliases" + malformed);
    }
    validated = ModelAliases.of(aliases, path + ".aliases");
  }

  /** The aliases, checked: validated on first use if {@link #validate} was not called. */
  public ModelAliases aliases() {
    if (validated == null) {
      validate("gateway.models");
    }
    return validated;
  }

  public ModelsOptions setAliases(Map<String, List<String>> aliases) {
    this.aliases = new LinkedHashMap<>();
    aliases.forEach((alias, models) -> this.aliases.put(alias, new ArrayList<>(models)));
    this.validated = null;
    this.malformed = null;
    return (ModelsOptions) this;
  }

  /** Adds one alias (after those set before). */
  public ModelsOptions addAlias(String alias, List<String> models) {
    aliases.put(alias, new ArrayList<>(models));
    validated = null;
    return (ModelsOptions) this;
  }
}
