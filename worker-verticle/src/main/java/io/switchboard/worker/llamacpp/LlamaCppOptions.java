package io.switchboard.worker.llamacpp;

import io.vertx.core.json.JsonObject;

import java.net.URI;

/**
 * Settings of the llamacpp engine. Today it attaches to a running llama-server at {@code url}; supervising one
 * over the rpc pool is the next step.
 */
public class LlamaCppOptions {

  /** How long the engine waits at start for llama-server's /health to answer 200 (it may be loading a model). */
  public static final long DEFAULT_STARTUP_TIMEOUT_MS = 120_000;

  private String url;
  private long startupTimeoutMs = DEFAULT_STARTUP_TIMEOUT_MS;

  public LlamaCppOptions() {
  }

  public LlamaCppOptions(JsonObject json) {
    url = json.getString("url");
    startupTimeoutMs = json.getLong("startupTimeoutMs", DEFAULT_STARTUP_TIMEOUT_MS);
  }

  public JsonObject toJson() {
    return new JsonObject().put("url", url).put("startupTimeoutMs", startupTimeoutMs);
  }

  /** Checks the settings the engine needs; only called for workers whose engine is llamacpp. */
  public void validate(String path) {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException(path + ".url must be the http:// URL of a running llama-server, e.g. "
          + "http://127.0.0.1:8081 (supervising one is not built yet)");
    }
    URI uri;
    try {
      uri = URI.create(url);
    } catch (IllegalArgumentException bad) {
      throw new IllegalArgumentException(path + ".url is not a URL: '" + url + "'");
    }
    if (!"http".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
      throw new IllegalArgumentException(path + ".url must be http://HOST:PORT, got '" + url + "'");
    }
    if (startupTimeoutMs < 1000) {
      throw new IllegalArgumentException(path + ".startupTimeoutMs must be >= 1000, got " + startupTimeoutMs);
    }
  }

  public String getUrl() {
    return url;
  }

  public LlamaCppOptions setUrl(String url) {
    this.url = url;
    return this;
  }

  public long getStartupTimeoutMs() {
    return startupTimeoutMs;
  }

  public LlamaCppOptions setStartupTimeoutMs(long startupTimeoutMs) {
    this.startupTimeoutMs = startupTimeoutMs;
    return this;
  }
}
