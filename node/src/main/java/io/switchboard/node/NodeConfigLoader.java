package io.switchboard.node;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The one place that reads configuration. Layers, each overriding the one before:
 * <ol>
 *   <li>built-in defaults (the embedded node: gateway + one mocker worker serving {@code mock-llm});</li>
 *   <li>the config file ({@code --config FILE} or {@code SWITCHBOARD_CONFIG}; YAML or JSON): sections replace
 *       defaults key by key, a {@code workers} list replaces the default worker;</li>
 *   <li>environment variables: every setting has one, {@code SWITCHBOARD_} plus its path in upper snake case,
 *       e.g. {@code gateway.httpPort} is {@code SWITCHBOARD_GATEWAY_HTTP_PORT} and
 *       {@code workers[0].slots} is {@code SWITCHBOARD_WORKERS_0_SLOTS}; lists are comma-separated;</li>
 *   <li>command-line flags.</li>
 * </ol>
 * Unknown keys are errors (a typo must not be silently ignored); the result is validated.
 */
public final class NodeConfigLoader {

  public static final String ENV_PREFIX = "SWITCHBOARD_";
  public static final String ENV_CONFIG = "SWITCHBOARD_CONFIG";
  /** Short names for the settings people change most. */
  static final Map<String, String> ENV_ALIASES = Map.of(
      "SWITCHBOARD_ROLES", "node.roles",
      "SWITCHBOARD_HTTP_PORT", "gateway.httpPort",
      "SWITCHBOARD_LOG_FORMAT", "node.logFormat",
      "SWITCHBOARD_API_KEYS", "gateway.apiKeys");
  private static final Set<String> SECTIONS = Set.of("node", "cluster", "gateway", "grpc", "rpcAgent");
  /**
   * Settings that map names the user chooses (not settings) to lists of names: taken whole from a file, and from the
   * environment as {@code NAME=A|B,NAME2=C}, as API keys' {@code models=A|B} and {@code modelPolicies} are written.
   */
  static final Set<String> NAMED_LISTS = Set.of("gateway.models.aliases");

  /** What the command line set; null fields were not given. */
  public record Flags(Path config, List<String> roles, Integer httpPort, String clusterHost,
                      List<String> clusterMembers, String rpcServerBin, Integer rpcPort, String llamaServerBin,
                      Path model, List<String> backends, Path modelsDir) {
    public static final Flags NONE = new Flags(null, null, null, null, null, null, null, null, null, null, null);

    public Flags(Path config, List<String> roles, Integer httpPort, String clusterHost, List<String> clusterMembers,
                 String rpcServerBin, Integer rpcPort, String llamaServerBin, Path model, List<String> backends) {
      this(config, roles, httpPort, clusterHost, clusterMembers, rpcServerBin, rpcPort, llamaServerBin, model,
          backends, null);
    }

    public Flags(Path config, List<String> roles, Integer httpPort, String clusterHost, List<String> clusterMembers) {
      this(config, roles, httpPort, clusterHost, clusterMembers, null, null, null, null, null);
    }
  }

  private NodeConfigLoader() {
  }

  public static NodeOptions load(Flags flags, Map<String, String> env) {
    JsonObject config = new NodeOptions().toJson();
    Path file = flags.config() != null ? flags.config()
        : env.containsKey(ENV_CONFIG) ? Path.of(env.get(ENV_CONFIG)) : null;
    if (file != null) {
      config = mergeFile(config, readFile(file), file);
    }
    applyEnvironment(config, env);
    applyFlags(config, flags);
    NodeOptions options;
    try {
      options = new NodeOptions(config);
    } catch (ClassCastException wrongType) {
      throw new ConfigException("a setting has the wrong type (" + wrongType.getMessage()
          + "); see the configuration reference in README.md");
    }
    try {
      options.validate();
    } catch (IllegalArgumentException invalid) {
      throw new ConfigException(invalid.getMessage());
    }
    return options;
  }

  static JsonObject readFile(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new ConfigException("cannot read config file " + file + ": " + e.getMessage(), e);
    }
    Object parsed;
    try {
      parsed = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
    } catch (YAMLException e) {
      throw new ConfigException("config file " + file + " is not valid YAML or JSON: " + e.getMessage(), e);
    }
    if (parsed == null) {
      return new JsonObject();
    }
    if (!(toJson(parsed) instanceof JsonObject json)) {
      throw new ConfigException("config file " + file + " must hold a mapping (node:, cluster:, gateway:, grpc:, rpcAgent:, workers:)");
    }
    return json;
  }

  private static JsonObject mergeFile(JsonObject defaults, JsonObject file, Path source) {
    for (String key : file.fieldNames()) {
      if (!SECTIONS.contains(key) && !"workers".equals(key)) {
        throw new ConfigException("unknown key '" + key + "' in " + source + " (known: cluster, gateway, grpc, node, rpcAgent, workers)");
      }
    }
    JsonObject merged = defaults.copy();
    for (String section : SECTIONS) {
      Object given = file.getValue(section);
      if (given == null) {
        continue;
      }
      if (!(given instanceof JsonObject values)) {
        throw new ConfigException("'" + section + "' in " + source + " must be a mapping of settings");
      }
      mergeInto(merged.getJsonObject(section), values, section, source);
    }
    Object workers = file.getValue("workers");
    if (workers != null) {
      if (!(workers instanceof JsonArray list)) {
        throw new ConfigException("'workers' in " + source + " must be a list of worker settings");
      }
      JsonObject workerDefaults = defaults.getJsonArray("workers").getJsonObject(0);
      JsonArray mergedWorkers = new JsonArray();
      for (int i = 0; i < list.size(); i++) {
        if (!(list.getValue(i) instanceof JsonObject entry)) {
          throw new ConfigException("workers[" + i + "] in " + source + " must be a mapping of settings");
        }
        JsonObject worker = workerDefaults.copy();
        mergeInto(worker, entry, "workers[" + i + "]", source);
        mergedWorkers.add(worker);
      }
      merged.put("workers", mergedWorkers);
    }
    return merged;
  }

  /** Copies {@code given} over {@code target}, refusing keys {@code target} does not have. */
  private static void mergeInto(JsonObject target, JsonObject given, String path, Path source) {
    for (String key : given.fieldNames()) {
      if (!target.containsKey(key)) {
        throw new ConfigException("unknown key '" + path + "." + key + "' in " + source + " (known: "
            + new TreeSet<>(target.fieldNames()) + ")");
      }
      Object value = given.getValue(key);
      Object current = target.getValue(key);
      String where = "'" + path + "." + key + "' in " + source;
      if (NAMED_LISTS.contains(path + "." + key)) {
        if (value instanceof String text) {
          target.put(key, parseNamedLists(text, where, path + "." + key));
        } else if (value instanceof JsonObject named) {
          // Its names are the user's; the gateway checks them and their lists (one message per mistake).
          target.put(key, named.copy());
        } else {
          throw new ConfigException(where + " must be a mapping of names to lists, e.g. chat: [qwen-32b, qwen-7b], "
              + "got '" + value + "'");
        }
      } else if (current instanceof JsonObject nested) {
        if (!(value instanceof JsonObject nestedGiven)) {
          throw new ConfigException(where + " must be a mapping of settings (known: "
              + new TreeSet<>(nested.fieldNames()) + ")");
        }
        mergeInto(nested, nestedGiven, path + "." + key, source);
      } else if (current instanceof Number && !(value instanceof Number)) {
        throw new ConfigException(where + " must be a number, got '" + value + "'");
      } else if (current instanceof Integer || current instanceof Long) {
        // Read as int or long later, where a fraction would be truncated and a too-large value wrapped.
        double number = ((Number) value).doubleValue();
        boolean int32 = current instanceof Integer;
        double limit = int32 ? 0x1p31 : 0x1p63;
        if (number != Math.rint(number) || number < -limit || number >= limit) {
          throw new ConfigException(where + " must be " + describeNumber(current) + ", got '" + value + "'");
        }
        target.put(key, int32 ? (Object) ((Number) value).intValue() : (Object) ((Number) value).longValue());
      } else if (current instanceof Boolean && !(value instanceof Boolean)) {
        throw new ConfigException(where + " must be true or false, got '" + value + "'");
      } else if (current instanceof JsonArray && value instanceof String text) {
        target.put(key, parse(text, current, where, path + "." + key));
      } else if (current instanceof JsonArray && !(value instanceof JsonArray)) {
        throw new ConfigException(where + " must be a list, got '" + value + "'");
      } else if (current instanceof JsonArray && value instanceof JsonArray list) {
        target.put(key, listAsText(list));
      } else if ((current instanceof String || current == null) && value instanceof Number) {
        target.put(key, String.valueOf(value));
      } else if ((current instanceof String || current == null) && value != null && !(value instanceof String)) {
        // The generated converters skip a value of the wrong type; say so instead of ignoring the setting.
        throw new ConfigException(where + " must be text, got '" + value + "'");
      } else {
        target.put(key, value);
      }
    }
  }

  /**
   * A list from a file, its numbers and booleans as text: the options' lists hold text (YAML reads
   * {@code [8080, true]} as a number and a boolean), and the generated converters keep only text items.
   */
  private static JsonArray listAsText(JsonArray list) {
    JsonArray text = new JsonArray();
    for (Object item : list) {
      text.add(item instanceof Number || item instanceof Boolean ? String.valueOf(item) : item);
    }
    return text;
  }

  /** Every setting's environment variable, with its path, in the order they appear. */
  public static Map<String, String> environmentNames(JsonObject config) {
    Map<String, String> names = new LinkedHashMap<>();
    collectLeaves(config, "", names);
    return names;
  }

  private static void collectLeaves(Object node, String path, Map<String, String> names) {
    if (NAMED_LISTS.contains(path)) {
      names.put(envName(path), path);
    } else if (node instanceof JsonObject object) {
      for (String key : object.fieldNames()) {
        collectLeaves(object.getValue(key), path.isEmpty() ? key : path + "." + key, names);
      }
    } else if (node instanceof JsonArray array && !array.isEmpty() && array.getValue(0) instanceof JsonObject) {
      for (int i = 0; i < array.size(); i++) {
        collectLeaves(array.getValue(i), path + "." + i, names);
      }
    } else {
      names.put(envName(path), path);
    }
  }

  static String envName(String path) {
    StringBuilder name = new StringBuilder(ENV_PREFIX);
    for (String segment : path.split("\\.")) {
      if (name.length() > ENV_PREFIX.length()) {
        name.append('_');
      }
      name.append(segment.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT));
    }
    return name.toString();
  }

  private static void applyEnvironment(JsonObject config, Map<String, String> env) {
    Map<String, String> names = environmentNames(config);
    ENV_ALIASES.forEach((alias, path) -> {
      if (env.containsKey(alias) && !env.containsKey(envName(path))) {
        set(config, path, env.get(alias), alias);
      }
    });
    names.forEach((variable, path) -> {
      String value = env.get(variable);
      if (value != null) {
        set(config, path, value, variable);
      }
    });
  }

  private static void applyFlags(JsonObject config, Flags flags) {
    if (flags.roles() != null) {
      set(config, "node.roles", String.join(",", flags.roles()), "--roles");
    }
    if (flags.httpPort() != null) {
      config.getJsonObject("gateway").put("httpPort", flags.httpPort());
    }
    if (flags.clusterHost() != null) {
      config.getJsonObject("cluster").put("host", flags.clusterHost());
    }
    if (flags.modelsDir() != null && flags.model() != null) {
      throw new ConfigException("--models-dir and --model each give the llamacpp worker what to serve (a directory "
          + "of GGUF files, or one file); use one of them");
    }
    if (flags.llamaServerBin() != null || flags.model() != null || flags.modelsDir() != null) {
      // The llama.cpp quick start: the first worker runs llama-server on this model over the cluster's rpc pool,
      // or one llama-server per loaded model of this directory.
      JsonObject worker = config.getJsonArray("workers").getJsonObject(0);
      worker.put("engine", "llamacpp");
      JsonObject llamacpp = worker.getJsonObject("llamacpp");
      if (flags.llamaServerBin() != null) {
        llamacpp.put("serverBin", flags.llamaServerBin());
      }
      if (flags.modelsDir() != null) {
        llamacpp.put("modelsDir", flags.modelsDir().toAbsolutePath().toString());
        llamacpp.putNull("modelPath");
      }
      if (flags.model() != null) {
        llamacpp.put("modelPath", flags.model().toAbsolutePath().toString());
        if ("mock-llm".equals(worker.getString("model"))) {
          worker.put("model", flags.model().getFileName().toString().replaceFirst("(?i)\\.gguf$", ""));
        }
      }
    }
    if (flags.backends() != null && !flags.backends().isEmpty()) {
      if (flags.llamaServerBin() != null || flags.model() != null || flags.modelsDir() != null) {
        throw new ConfigException("--backend and --llama-server-bin/--model/--models-dir each set up the node's workers; use one "
            + "of them, or a config file with both kinds under workers:");
      }
      // The GPU-backend quick start: one openai worker per backend, in place of the configured workers.
      JsonObject template = new NodeOptions().toJson().getJsonArray("workers").getJsonObject(0);
      JsonArray workers = new JsonArray();
      for (String url : flags.backends()) {
        JsonObject worker = template.copy().put("engine", "openai");
        worker.getJsonObject("openai").put("url", url.trim());
        workers.add(worker);
      }
      config.put("workers", workers);
    }
    if (flags.rpcServerBin() != null) {
      config.getJsonObject("rpcAgent").put("serverBin", flags.rpcServerBin());
    }
    if (flags.rpcPort() != null) {
      config.getJsonObject("rpcAgent").put("port", flags.rpcPort());
    }
    if (flags.clusterMembers() != null) {
      set(config, "cluster.members", String.join(",", flags.clusterMembers()), "--cluster-members");
    }
  }

  /** Sets the setting at {@code path} from text, parsed as the type its current value has. */
  private static void set(JsonObject config, String path, String text, String source) {
    String[] segments = path.split("\\.");
    Object parent = config;
    for (int i = 0; i < segments.length - 1; i++) {
      parent = parent instanceof JsonArray array ? array.getValue(Integer.parseInt(segments[i]))
          : ((JsonObject) parent).getValue(segments[i]);
    }
    JsonObject target = (JsonObject) parent;
    String key = segments[segments.length - 1];
    Object current = target.getValue(key);
    target.put(key, parse(text, current, source, path));
  }

  private static Object parse(String text, Object current, String source, String path) {
    String trimmed = text.trim();
    try {
      if (current instanceof Integer) {
        return Integer.parseInt(trimmed);
      }
      if (current instanceof Long) {
        return Long.parseLong(trimmed);
      }
      if (current instanceof Double || current instanceof Float) {
        return Double.parseDouble(trimmed);
      }
    } catch (NumberFormatException e) {
      throw new ConfigException(source + " (" + path + ") must be " + describeNumber(current) + ", got '"
          + text + "'");
    }
    if (current instanceof Boolean) {
      if (!trimmed.equalsIgnoreCase("true") && !trimmed.equalsIgnoreCase("false")) {
        throw new ConfigException(source + " (" + path + ") must be true or false, got '" + text + "'");
      }
      return Boolean.parseBoolean(trimmed.toLowerCase(Locale.ROOT));
    }
    if (current instanceof JsonObject && NAMED_LISTS.contains(path)) {
      return parseNamedLists(text, source, path);
    }
    if (current instanceof JsonArray) {
      List<String> items = new ArrayList<>(Arrays.stream(trimmed.split(",")).map(String::trim)
          .filter(s -> !s.isEmpty()).toList());
      return new JsonArray(new ArrayList<>(items));
    }
    return trimmed;
  }

  /** {@code NAME=A|B,NAME2=C} as {@code {NAME: [A, B], NAME2: [C]}}; empty text is an empty mapping. */
  static JsonObject parseNamedLists(String text, String source, String path) {
    JsonObject named = new JsonObject();
    for (String entry : text.split(",")) {
      if (entry.isBlank()) {
        continue;
      }
      int equals = entry.indexOf('=');
      String name = equals < 0 ? "" : entry.substring(0, equals).trim();
      if (name.isEmpty()) {
        throw new ConfigException(source + " (" + path + ") must look like NAME=MODEL|MODEL,NAME2=MODEL, e.g. "
            + "chat=qwen-32b|qwen-7b; got '" + entry.trim() + "'");
      }
      if (named.containsKey(name)) {
        throw new ConfigException(source + " (" + path + ") names '" + name + "' twice");
      }
      JsonArray list = new JsonArray();
      for (String item : entry.substring(equals + 1).split("\\|", -1)) {
        list.add(item.trim());
      }
      if (list.size() == 1 && list.getString(0).isEmpty()) {
        list.clear();
      }
      named.put(name, list);
    }
    return named;
  }

  private static String describeNumber(Object current) {
    if (current instanceof Integer) {
      return "a whole number between " + Integer.MIN_VALUE + " and " + Integer.MAX_VALUE;
    }
    return current instanceof Long ? "a whole number" : "a number";
  }

  /** YAML's maps and lists as Vert.x JSON. */
  private static Object toJson(Object yaml) {
    if (yaml instanceof Map<?, ?> map) {
      JsonObject object = new JsonObject();
      map.forEach((k, v) -> object.put(String.valueOf(k), toJson(v)));
      return object;
    }
    if (yaml instanceof List<?> list) {
      JsonArray array = new JsonArray();
      list.forEach(v -> array.add(toJson(v)));
      return array;
    }
    return yaml;
  }
}
