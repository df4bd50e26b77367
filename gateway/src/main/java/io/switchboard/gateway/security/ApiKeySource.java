package io.switchboard.gateway.security;

import io.switchboard.gateway.GatewayOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.file.FileProps;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Where a gateway's API keys come from: {@code gateway.apiKeys} and the lines of {@code gateway.apiKeysFile}.
 * The file is read off the event loop at start, then checked every few seconds: when it changes, the keys are
 * read again and take effect at once (a key added or revoked without a restart). A file that no longer parses
 * leaves the keys as they were and logs an error naming the line.
 */
public final class ApiKeySource {

  private static final Logger log = LoggerFactory.getLogger(ApiKeySource.class);
  static final long CHECK_INTERVAL_MS = 2000;

  private final Vertx vertx;
  private final GatewayOptions options;
  private final String file;
  private volatile ApiKeys current;
  private long timer = -1;
  private String lastSeen;

  public ApiKeySource(Vertx vertx, GatewayOptions options) {
    this.vertx = vertx;
    this.options = options;
    this.file = options.getApiKeysFile() == null || options.getApiKeysFile().isBlank() ? null
        : options.getApiKeysFile();
  }

  /** Reads the keys; fails, naming the entry at fault, when one does not parse. Then watches the file. */
  public Future<ApiKeys> start() {
    return stamp().compose(stamp -> read().map(keys -> {
      lastSeen = stamp;
      current = keys;
      describe(keys, "API keys loaded");
      if (file != null) {
        timer = vertx.setPeriodic(CHECK_INTERVAL_MS, id -> checkFile());
      }
      return keys;
    }));
  }

  /** The keys now. */
  public ApiKeys current() {
    return current;
  }

  public void stop() {
    vertx.cancelTimer(timer);
  }

  private void checkFile() {
    stamp().onSuccess(stamp -> {
      if (stamp.equals(lastSeen)) {
        return;
      }
      lastSeen = stamp;
      read().onSuccess(keys -> {
        current = keys;
        describe(keys, "API keys reloaded from " + file);
      }).onFailure(failure -> log.error("API keys file changed but cannot be used; the keys stay as they were",
          kv("file", file), kv("reason", failure.getMessage()), kv("component", "gateway")));
    }).onFailure(failure -> {
      if (lastSeen != null && !lastSeen.isEmpty()) {
        lastSeen = "";
        log.error("API keys file cannot be read; the keys stay as they were", kv("file", file),
            kv("reason", failure.getMessage()), kv("component", "gateway"));
      }
    });
  }

  /** The file's modification time and size (empty when there is no file): what tells a change. */
  private Future<String> stamp() {
    if (file == null) {
      return Future.succeededFuture("");
    }
    return vertx.fileSystem().props(file).map((FileProps props) -> props.lastModifiedTime() + "/" + props.size());
  }

  private Future<ApiKeys> read() {
    List<ApiKeys.Entry> entries = new ArrayList<>();
    for (int i = 0; i < options.getApiKeys().size(); i++) {
      entries.add(new ApiKeys.Entry(options.getApiKeys().get(i), "gateway.apiKeys[" + i + "]"));
    }
    Future<Void> read = file == null ? Future.succeededFuture()
        : vertx.fileSystem().readFile(file).map(content -> {
          String[] lines = content.toString(StandardCharsets.UTF_8).split("\\R");
          for (int i = 0; i < lines.length; i++) {
            entries.add(new ApiKeys.Entry(lines[i], file + " line " + (i + 1)));
          }
          return null;
        });
    return read.map(v -> ApiKeys.parse(entries, options.getRateLimits()));
  }

  private void describe(ApiKeys keys, String what) {
    if (keys.isEmpty()) {
      log.warn("no API keys are configured: anyone who can reach this gateway may use its API. Set gateway.apiKeys, "
          + "gateway.apiKeysFile or SWITCHBOARD_API_KEYS before exposing it beyond this machine",
          kv("host", options.getHost()), kv("port", options.getHttpPort()));
    } else {
      log.info(what, kv("keys", keys.size()), kv("names", keys.all().stream().map(ApiKey::name).toList()),
          kv("adminKey", options.getAdminKey() == null ? "not set: /admin, /dashboard and /metrics are closed"
              : "set"));
    }
  }
}
