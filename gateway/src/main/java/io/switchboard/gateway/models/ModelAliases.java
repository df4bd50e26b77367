package io.switchboard.gateway.models;

import io.switchboard.gateway.http.ClientText;
import io.switchboard.gateway.security.ApiKey;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The configured aliases, checked: each names one or more served models, in the order a request for it tries them.
 * An alias names served models only (not another alias, so there is no chain or cycle to follow), each at most once,
 * and an alias's name is one a client can send and the environment's {@code ALIAS=MODEL|MODEL,...} form can carry.
 * Immutable; the gateway's one instance is shared by its requests.
 */
public final class ModelAliases {

  /** An alias's name: what a client sends as {@code model}. */
  static final Pattern ALIAS_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}");
  /** A served model's name as an alias may list it (backends name models with paths and tags). */
  static final Pattern MODEL_NAME = Pattern.compile("[A-Za-z0-9._:/@+-]{1,256}");
  private static final String NAME_RULE = "letters, digits and . _ : / @ + - only (no spaces, '=', '|' or ',')";

  public static final ModelAliases NONE = new ModelAliases(Map.of());

  private final Map<String, List<String>> targets;

  private ModelAliases(Map<String, List<String>> targets) {
    this.targets = targets;
  }

  /**
   * The aliases of {@code aliases}, checked.
   *
   * @param path where they were configured, for the error ({@code gateway.models.aliases})
   * @throws IllegalArgumentException naming the alias, what is wrong with it and how to fix it
   */
  public static ModelAliases of(Map<String, List<String>> aliases, String path) {
    Map<String, List<String>> checked = new LinkedHashMap<>();
    for (Map.Entry<String, List<String>> entry : aliases.entrySet()) {
      String alias = entry.getKey();
      if (alias == null || !ALIAS_NAME.matcher(alias).matches()) {
        throw new IllegalArgumentException(path + " has an alias named '" + ClientText.shown(String.valueOf(alias))
            + "', which is not a usable model name: use 1 to 128 " + NAME_RULE + ", starting with a letter or digit");
      }
      String where = path + "." + alias;
      List<String> models = entry.getValue() == null ? List.of() : entry.getValue();
      if (models.isEmpty()) {
        throw new IllegalArgumentException(where + " names no model: list the served models it stands for, in the "
            + "order to try them, e.g. " + alias + ": [qwen-32b, qwen-7b]");
      }
      Set<String> seen = new HashSet<>();
      for (int i = 0; i < models.size(); i++) {
        String model = models.get(i);
        if (model == null || !MODEL_NAME.matcher(model).matches()) {
          throw new IllegalArgumentException(where + "[" + i + "] is '" + ClientText.shown(String.valueOf(model))
              + "', not a model name: use the name a worker serves (GET /v1/models), 1 to 256 " + NAME_RULE);
        }
        if (model.equals(alias)) {
          throw new IllegalArgumentException(where + " names itself, a cycle: an alias must name served models "
              + "under their own names (to give a served model a second name, use another alias name)");
        }
        if (!seen.add(model)) {
          throw new IllegalArgumentException(where + " names '" + model + "' twice: list each model once, in the "
              + "order to try them");
        }
        if (aliases.containsKey(model)) {
          List<String> cycle = cycleFrom(alias, aliases);
          throw new IllegalArgumentException(cycle != null
              ? where + " is part of a cycle of aliases (" + String.join(" -> ", cycle) + "): an alias must name "
                  + "served models, not other aliases"
              : where + " names '" + model + "', which is an alias too: an alias must name served models, not "
                  + "other aliases; list " + model + "'s models " + aliases.get(model) + " in " + where + " instead");
        }
      }
      checked.put(alias, List.copyOf(models));
    }
    return new ModelAliases(Collections.unmodifiableMap(checked));
  }

  /** The aliases from {@code start} back to itself through aliases naming aliases, or null when there is no cycle. */
  private static List<String> cycleFrom(String start, Map<String, List<String>> aliases) {
    List<String> path = new ArrayList<>();
    return cycle(start, start, aliases, path, new LinkedHashSet<>()) ? path : null;
  }

  private static boolean cycle(String start, String at, Map<String, List<String>> aliases, List<String> path,
                               Set<String> visited) {
    path.add(at);
    if (!visited.add(at)) {
      if (at.equals(start)) {
        return true;
      }
      path.remove(path.size() - 1);
      return false;
    }
    for (String next : aliases.getOrDefault(at, List.of())) {
      if (aliases.containsKey(next) && cycle(start, next, aliases, path, visited)) {
        return true;
      }
    }
    path.remove(path.size() - 1);
    return false;
  }

  public boolean isEmpty() {
    return targets.isEmpty();
  }

  public boolean isAlias(String name) {
    return name != null && targets.containsKey(name);
  }

  /** The alias's models in order; null when {@code name} is not an alias. */
  public List<String> targetsOf(String name) {
    return name == null ? null : targets.get(name);
  }

  /** The aliases' names, in the order configured. */
  public Set<String> names() {
    return targets.keySet();
  }

  /**
   * The models of {@code alias} a request made with {@code key} may reach: all of them when the key may use the
   * alias by name (or is unrestricted); otherwise those the key may use by name, in the alias's order. Empty when the
   * key may use neither the alias nor any of its models.
   */
  public List<String> allowedTargets(String alias, ApiKey key) {
    List<String> all = targets.get(alias);
    if (all == null) {
      return List.of();
    }
    if (key == null || key.allows(alias)) {
      return all;
    }
    List<String> allowed = new ArrayList<>(all.size());
    for (String model : all) {
      if (key.allows(model)) {
        allowed.add(model);
      }
    }
    return allowed;
  }

  /** The aliases that are also names some worker serves (the alias wins: see docs/aliases.md). */
  public List<String> shadowing(Collection<String> served) {
    List<String> shadowing = new ArrayList<>();
    for (String alias : targets.keySet()) {
      if (served.contains(alias)) {
        shadowing.add(alias);
      }
    }
    return shadowing;
  }

  /** {@code {alias: [models]}}, in the order configured. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject();
    targets.forEach((alias, models) -> json.put(alias, new JsonArray(new ArrayList<>(models))));
    return json;
  }
}
