package io.switchboard.worker.openai;

import io.switchboard.protocol.NativeForm;
import io.switchboard.runtime.config.GenerateOptions;
import io.switchboard.runtime.config.Range;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Settings of the openai engine: one OpenAI-compatible backend (vLLM, SGLang, TGI, trtllm-serve, Ollama,
 * llama-server, or anything else that speaks the API) by URL. The models it serves are read from the backend's
 * {@code /v1/models}; {@code models} narrows them, {@code aliases} renames them.
 */
@GenerateOptions
public abstract class OpenAiOptionsSpec {

  public static final String DEFAULT_KIND = "auto";
  /** Fields the backend kind's policy refuses that this worker lets through anyway: none (BackendFieldPolicy). */
  public static final List<String> DEFAULT_PASS_FIELDS = List.of();
  /** The nativeDialects entry that asks the worker to probe its backend for them. */
  public static final String PROBE_NATIVE_DIALECTS = "auto";

  String url;
  String apiKey;
  String kind = DEFAULT_KIND;
  @Range(min = 100)
  long connectTimeoutMs = 5000;
  /** A backend that sends nothing for this long mid-answer (or before its first byte) is taken as stuck. */
  @Range(min = 100)
  long idleTimeoutMs = 120_000;
  @Range(min = 100)
  long healthIntervalMs = 1000;
  /** Consecutive failed health checks before the backend counts as down (one success brings it back). */
  @Range(min = 1)
  int unhealthyAfter = 2;
  String healthPath;
  @Range(min = 1000)
  long modelsRefreshMs = 15_000;
  String metricsPath = "/metrics";
  @Range(min = 100)
  long metricsIntervalMs = 1000;
  List<String> models = List.of();
  List<String> aliases = List.of();
  List<String> embeddingModels = List.of();
  List<String> passFields = DEFAULT_PASS_FIELDS;
  /**
   * Which dialects the backend serves natively (NativeForm: responses, messages): probed when the backend comes up
   * (POST {} to /v1/responses and /v1/messages; 404 or 405 means not served), unless listed here ([] for none).
   */
  List<String> nativeDialects = List.of(PROBE_NATIVE_DIALECTS);

  /** Checks the settings; only called for workers whose engine is openai. */
  public void validate(String path) {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException(path + ".url is required: the backend's base URL, e.g. "
          + "http://127.0.0.1:8000 (or start with --backend http://HOST:PORT)");
    }
    URI uri = null;
    try {
      uri = URI.create(url.trim());
    } catch (IllegalArgumentException notAUrl) {
      // reported below, the same way as a URL without scheme or host
    }
    if (uri == null || !"http".equalsIgnoreCase(uri.getScheme()) && !"https".equalsIgnoreCase(uri.getScheme())
        || uri.getHost() == null) {
      throw new IllegalArgumentException(path + ".url must be http(s)://HOST[:PORT][/PATH], e.g. "
          + "http://127.0.0.1:8000, got '" + url + "'");
    }
    if (BackendKind.fromConfig(kind) == null && !DEFAULT_KIND.equals(kind)) {
      throw new IllegalArgumentException(path + ".kind must be one of " + BackendKind.configNames() + ", got '"
          + kind + "'");
    }
    if (healthPath != null && !healthPath.isEmpty() && !healthPath.startsWith("/")) {
      throw new IllegalArgumentException(path + ".healthPath must start with '/', got '" + healthPath + "'");
    }
    if (metricsPath != null && !metricsPath.isEmpty() && !metricsPath.startsWith("/")) {
      throw new IllegalArgumentException(path + ".metricsPath must start with '/' (or be empty to not scrape), got '"
          + metricsPath + "'");
    }
    aliasMap(path);
    requireFieldNames(path + ".passFields", passFields);
    for (String dialect : nativeDialects) {
      if (!NativeForm.known(dialect) && !PROBE_NATIVE_DIALECTS.equals(dialect) && !"none".equals(dialect)) {
        throw new IllegalArgumentException(path + ".nativeDialects must be [auto] (probe the backend), a list of "
            + NativeForm.DIALECTS + ", or [] (none), got '" + dialect + "'");
      }
    }
    if (nativeDialects.contains(PROBE_NATIVE_DIALECTS) && nativeDialects.size() > 1) {
      throw new IllegalArgumentException(path + ".nativeDialects: auto (probe the backend) cannot be combined with "
          + "a list, got " + nativeDialects);
    }
  }

  /** Fails unless every entry is a plain top-level field name, as a request body names it. */
  public static void requireFieldNames(String key, List<String> fields) {
    for (String field : fields) {
      if (field == null || field.isBlank() || !field.equals(field.trim())) {
        throw new IllegalArgumentException(key + " must list request field names (e.g. ignore_eos), got '" + field
            + "'");
      }
    }
  }

  /** {@code aliases} as backend model name to served name; fails on entries not shaped BACKEND=SERVED. */
  public Map<String, String> aliasMap(String path) {
    Map<String, String> map = new LinkedHashMap<>();
    for (String entry : aliases) {
      int eq = entry.lastIndexOf('=');
      if (eq <= 0 || eq == entry.length() - 1) {
        throw new IllegalArgumentException(path + ".aliases entries must be BACKEND_MODEL=SERVED_NAME, got '"
            + entry + "'");
      }
      map.put(entry.substring(0, eq).trim(), entry.substring(eq + 1).trim());
    }
    return map;
  }

  /** The base URL without a trailing slash or {@code /v1} (people paste either form). */
  public URI baseUri() {
    String base = url.trim();
    while (base.endsWith("/")) {
      base = base.substring(0, base.length() - 1);
    }
    if (base.endsWith("/v1")) {
      base = base.substring(0, base.length() - 3);
    }
    return URI.create(base);
  }

  /** Whether the worker probes its backend for the dialects it serves natively (nativeDialects: [auto]). */
  public boolean probesNativeDialects() {
    return nativeDialects.contains(PROBE_NATIVE_DIALECTS);
  }

  /** The configured native dialects (meaningless when {@link #probesNativeDialects()}); "none" is dropped. */
  public List<String> servedNativeDialects() {
    return nativeDialects.stream().filter(NativeForm::known).toList();
  }
}
