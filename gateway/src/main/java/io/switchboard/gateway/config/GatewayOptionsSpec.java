package io.switchboard.gateway.config;

import io.switchboard.gateway.dialect.responses.store.ResponseStoreOptions;
import io.switchboard.gateway.models.ModelsOptions;
import io.switchboard.gateway.plane.PlaneTimeouts;
import io.switchboard.gateway.registry.RegistrySettings;
import io.switchboard.gateway.routing.PrefixAwarePolicy;
import io.switchboard.gateway.routing.RouterOptions;
import io.switchboard.gateway.routing.RoutingPolicies;
import io.switchboard.gateway.security.ApiKeySettings;
import io.switchboard.gateway.security.ApiKeys;
import io.switchboard.gateway.security.ApiKeysFile;
import io.switchboard.gateway.security.CorsOptions;
import io.switchboard.gateway.security.LimitOptions;
import io.switchboard.gateway.security.RateLimitOptions;
import io.switchboard.gateway.security.TlsOptions;
import io.switchboard.runtime.config.GenerateOptions;
import io.switchboard.runtime.config.OptionChecks;
import io.switchboard.runtime.config.Range;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Settings of a gateway: where it listens, how it routes, and how long it waits. The handlers read them whole; the
 * packages below them read their part through an interface of their own ({@link RegistrySettings},
 * {@link PlaneTimeouts}, {@link ApiKeySettings}), and each component's sub-settings ({@code router}, {@code models},
 * {@code responses}, {@code cors}, {@code rateLimits}, {@code limits}, {@code tls}) live in that component's
 * package, so this package sits between the components and the handlers and no package depends on one that
 * depends back on it.
 */
@GenerateOptions
public abstract class GatewayOptionsSpec implements ApiKeySettings, PlaneTimeouts, RegistrySettings {

  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final List<String> REQUEST_PLANES = List.of("eventbus", "grpc");
  /** On shutdown, how long requests in progress (streams included) may take to finish before they are cut. */
  public static final long DEFAULT_DRAIN_TIMEOUT_MS = 30_000;
  /**
   * Host names (besides loopback ones) requests may be addressed to; empty = loopback names only when listening on
   * a loopback address, any when listening elsewhere; {@code *} = any.
   */
  public static final List<String> DEFAULT_ALLOWED_HOSTS = List.of();

  String host = DEFAULT_HOST;
  @Range(min = 0, max = 65535, meaning = " (0 = any free port)")
  int httpPort = 8080;
  /** Largest request body accepted; larger gets 413. */
  @Range(min = 1024)
  long maxBodyBytes = 1024 * 1024;
  /** The policy of every model not named in {@code modelPolicies}. */
  String routingPolicy = PrefixAwarePolicy.NAME;
  /** Per-model policies, "MODEL=POLICY" each. */
  List<String> modelPolicies = new ArrayList<>();
  RouterOptions router = new RouterOptions();
  /** How this gateway reaches workers: over the clustered event bus, or direct TCP to each node's gRPC server. */
  String requestPlane = "eventbus";
  /** A worker whose last load report is older than this is not routed to, and its streams fail. */
  @Range(min = 500)
  long workerSilenceMs = 3000;
  /** How long a worker has to accept (or refuse) a generate request before the gateway tries another. */
  @Range(min = 100)
  long acceptTimeoutMs = 5000;
  /** Longest gap between two chunks of a stream before the gateway gives up on the worker. */
  @Range(min = 1000)
  long streamIdleTimeoutMs = 120_000;
  /** Longest a whole request may take. */
  @Range(min = 1000)
  long requestTimeoutMs = 600_000;
  /** Chunks a worker may send ahead of what the client has taken (the flow-control window). */
  @Range(min = 2)
  int streamCredits = 64;
  /** How many workers a request is offered to before the gateway gives up (only before the first token). */
  @Range(min = 1)
  int maxAttempts = 3;
  /** Pause before the third and later offers of a request, doubling each time, ±50% jitter; 0 = none. */
  @Range(min = 0)
  long retryBackoffMs = 50;
  String adminKey;
  /** API key entries, {@code KEY[;name=N][;models=A|B][;rpm=N][;tpm=N]} each; empty (and no file) = open API. */
  List<String> apiKeys = new ArrayList<>();
  /** A file of API key entries, one per line ('#' comments); read at start, then whenever it changes. */
  String apiKeysFile;
  /** How often the API keys file is checked for changes (a change is taken once it stayed for one check). */
  @Range(min = 100)
  long apiKeysFileCheckMs = 2000;
  RateLimitOptions rateLimits = new RateLimitOptions();
  LimitOptions limits = new LimitOptions();
  TlsOptions tls = new TlsOptions();
  String otlpTracesEndpoint;
  /**
   * How many times a stream whose worker fails after tokens were sent is continued on another worker (with
   * the text so far) before the client gets the error; 0 turns migration off.
   */
  @Range(min = 0)
  int migrationLimit = 3;
  /**
   * How long a worker may take to send the first token of a request (or of a migrated stream's next part)
   * before the gateway cancels it there and tries another worker; 0 = no limit.
   */
  long firstTokenTimeoutMs = 60_000;
  /** Requests per model that may wait in the gateway while every worker of the model is full; 0 = none wait. */
  @Range(min = 0)
  int admissionQueueSize = 256;
  /** Longest a request waits in that queue before it gets 503 with Retry-After. */
  @Range(min = 100)
  long admissionTimeoutMs = 30_000;
  /** Requests this gateway serves at once, queued ones included; beyond, new ones get 503 at once. */
  @Range(min = 1)
  int maxInFlight = 10_000;
  @Range(min = 0)
  long drainTimeoutMs = DEFAULT_DRAIN_TIMEOUT_MS;
  /** Failures in a row (failed, vanished, no first token in time) that open a worker's circuit; 0 = never. */
  @Range(min = 0)
  int circuitFailureThreshold = 5;
  /** How long an open circuit keeps requests away before one probes the worker (doubling while it fails). */
  @Range(min = 100)
  long circuitOpenMs = 10_000;
  /** How often the registry re-reads every discovery record, as a safety net under the announcements. */
  @Range(min = 100)
  long registryResyncMs = 2000;
  /** One log line per completed request (an access log); failures and retries are logged either way. */
  boolean logRequests = true;
  /** Distinct model names the metrics carry as a {@code model} tag; served models beyond it are tagged "other". */
  @Range(min = 1)
  int metricsMaxModels = 100;
  List<String> allowedHosts = new ArrayList<>(DEFAULT_ALLOWED_HOSTS);
  CorsOptions cors = new CorsOptions();
  ResponseStoreOptions responses = new ResponseStoreOptions();
  ModelsOptions models = new ModelsOptions();

  /** Fails with a message naming the key under {@code path} and what it accepts. */
  public void validate(String path) {
    OptionChecks.notBlank(path + ".host", host, "an address to listen on, e.g. 127.0.0.1 or 0.0.0.0");
    if (!RoutingPolicies.NAMES.contains(routingPolicy)) {
      throw new IllegalArgumentException(path + ".routingPolicy must be one of " + RoutingPolicies.NAMES
          + ", got '" + routingPolicy + "'");
    }
    policiesByModel(path);
    router.validate(path + ".router");
    if (!REQUEST_PLANES.contains(requestPlane)) {
      throw new IllegalArgumentException(path + ".requestPlane must be one of " + REQUEST_PLANES + ", got '"
          + requestPlane + "'");
    }
    if (firstTokenTimeoutMs != 0) {
      OptionChecks.atLeast(path + ".firstTokenTimeoutMs (0 = no limit)", firstTokenTimeoutMs, 100);
    }
    for (String allowed : allowedHosts) {
      if (!"*".equals(allowed) && !allowed.matches("(?i)[a-z0-9.\\-]+|\\[[0-9a-f:.]+\\]")) {
        throw new IllegalArgumentException(path + ".allowedHosts entries must be host names or addresses without a "
            + "port (e.g. gateway.example.com, 10.0.0.5, [fd00::5]), or * for any, got '" + allowed + "'");
      }
    }
    cors.validate(path + ".cors");
    responses.validate(path + ".responses");
    models.validate(path + ".models");
    if (otlpTracesEndpoint != null && !otlpTracesEndpoint.matches("https?://[^/\\s]+(/\\S*)?")) {
      throw new IllegalArgumentException(path + ".otlpTracesEndpoint must be an http(s) URL of an OTLP/HTTP traces "
          + "receiver, e.g. http://127.0.0.1:4318/v1/traces, got '" + otlpTracesEndpoint + "'");
    }
    rateLimits.validate(path + ".rateLimits");
    limits.validate(path + ".limits");
    if (limits.getMaxInFlightBodyBytes() != 0 && limits.getMaxInFlightBodyBytes() < maxBodyBytes) {
      throw new IllegalArgumentException(path + ".limits.maxInFlightBodyBytes (" + limits.getMaxInFlightBodyBytes()
          + ") must be at least " + path + ".maxBodyBytes (" + maxBodyBytes + "), or 0 for an eighth of the heap: "
          + "a request of the largest size accepted must fit");
    }
    tls.validate(path + ".tls");
    if (apiKeysFile != null && !apiKeysFile.isBlank()) {
      if (!java.nio.file.Files.isReadable(java.nio.file.Path.of(apiKeysFile))) {
        throw new IllegalArgumentException(path + ".apiKeysFile: cannot read '" + apiKeysFile + "' (missing, or not "
            + "readable by this user)");
      }
      try {
        ApiKeysFile.readNow(this, apiKeysFile);
      } catch (java.io.IOException unreadable) {
        throw new IllegalArgumentException(path + ".apiKeysFile: cannot read '" + apiKeysFile + "' ("
            + unreadable.getMessage() + ")");
      } catch (IllegalArgumentException invalid) {
        throw new IllegalArgumentException(path + ".apiKeysFile: " + invalid.getMessage());
      }
    }
    if (adminKey != null) {
      ApiKeys.hashOf(adminKey, path + ".adminKey");
    }
    if (adminKey != null && adminKey.length() < 8) {
      throw new IllegalArgumentException(path + ".adminKey must be at least 8 characters (it guards /admin and "
          + "/dashboard), got " + adminKey.length());
    }
  }

  /** The routing policy of {@code model}: its {@code modelPolicies} entry, else {@code routingPolicy}. */
  public String policyOf(String model) {
    return policiesByModel("gateway").getOrDefault(model, routingPolicy);
  }

  private Map<String, String> policiesByModel(String path) {
    Map<String, String> byModel = new LinkedHashMap<>();
    for (String entry : modelPolicies) {
      int eq = entry.indexOf('=');
      String model = eq < 0 ? "" : entry.substring(0, eq).trim();
      String policy = eq < 0 ? "" : entry.substring(eq + 1).trim();
      if (model.isEmpty() || !RoutingPolicies.NAMES.contains(policy)) {
        throw new IllegalArgumentException(path + ".modelPolicies entries must look like MODEL=POLICY with POLICY one "
            + "of " + RoutingPolicies.NAMES + ", got '" + entry + "'");
      }
      if (byModel.put(model, policy) != null) {
        throw new IllegalArgumentException(path + ".modelPolicies names model '" + model + "' twice");
      }
    }
    return byModel;
  }

  public GatewayOptions setAllowedHosts(List<String> allowedHosts) {
    // Without the spaces a YAML list may leave around an entry.
    this.allowedHosts = new ArrayList<>(allowedHosts.stream().map(String::trim).toList());
    return (GatewayOptions) this;
  }
}
