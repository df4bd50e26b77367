package io.switchboard.gateway.security;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Where a gateway's API keys come from: {@code gateway.apiKeys} and the lines of {@code gateway.apiKeysFile}. The
 * file is read off the event loop at start (it must hold at least one key), then checked every
 * {@code gateway.apiKeysFileCheckMs}, so keys are added and revoked without a restart.
 *
 * <p>What it guarantees: the keys in force only ever come from a whole, valid file. A changed file is read once
 * its stamp (time, size, inode) has stayed the same from one check to the next and again while it is read, so a
 * write in progress is not taken. A file that is empty, holds only comments, has vanished, cannot be read, does not
 * parse, or is a copy of the keys in force cut off in the middle of a line, is refused: the keys in force stay,
 * and the refusal is logged once (error) and shown by {@link #status()}. A valid file with fewer keys is taken
 * (that is how a key is revoked). So the API never opens because of what happened to the file.
 */
public final class ApiKeySource {

  private static final Logger log = LoggerFactory.getLogger(ApiKeySource.class);
  /** Reads at start that may find the file changing before the gateway gives up. */
  private static final int START_READS = 5;

  private final Vertx vertx;
  private final ApiKeySettings options;
  private final String file;
  private final ApiKeysFile onDisk;
  private volatile ApiKeys current;
  private long timer = -1;
  /** The gateway's context: every check and every change of state runs there. */
  private Context context;
  private boolean checking;
  /** The version of the file the keys in force came from, and its content. */
  private ApiKeysFile.Stamp inForce;
  private String inForceContent;
  /** A changed version seen at the last check: taken at the next one if it is still the same. */
  private ApiKeysFile.Stamp pending;
  /** The version last refused (reported once). */
  private ApiKeysFile.Stamp refused;
  private volatile long loadedAtMs;
  private volatile long failedAtMs;
  private volatile String failure;
  private volatile boolean fileRefused;

  public ApiKeySource(Vertx vertx, ApiKeySettings options, MeterRegistry metrics) {
    this.vertx = vertx;
    this.options = options;
    this.file = options.getApiKeysFile() == null || options.getApiKeysFile().isBlank() ? null
        : options.getApiKeysFile();
    this.onDisk = file == null ? null : new ApiKeysFile(file);
    if (file != null) {
      Gauge.builder("switchboard.api.keys.file.refused", () -> fileRefused ? 1 : 0)
          .description("1 while the API keys file on disk is refused (empty, unreadable, invalid) and the keys "
              + "loaded before stay in force")
          .register(metrics);
      Gauge.builder("switchboard.api.keys.loaded.timestamp", () -> loadedAtMs / 1000.0).baseUnit("seconds")
          .description("When the API keys in force were loaded (Unix time)")
          .register(metrics);
    }
  }

  /**
   * Reads the keys; fails, naming the entry at fault, when one does not parse or the file holds no key. Then
   * watches the file.
   */
  public Future<ApiKeys> start() {
    context = vertx.getOrCreateContext();
    if (file == null) {
      List<ApiKeys.Entry> entries = new ArrayList<>();
      for (int i = 0; i < options.getApiKeys().size(); i++) {
        entries.add(new ApiKeys.Entry(options.getApiKeys().get(i), "gateway.apiKeys[" + i + "]"));
      }
      try {
        return Future.succeededFuture(loaded(ApiKeys.parse(entries, options.getRateLimits()), null, null));
      } catch (IllegalArgumentException invalid) {
        return Future.failedFuture(invalid);
      }
    }
    return readAtStart(START_READS).map(snapshot -> {
      ApiKeys keys = ApiKeysFile.parse(options, file, snapshot.content());
      loaded(keys, snapshot.stamp(), snapshot.content());
      timer = vertx.setPeriodic(options.getApiKeysFileCheckMs(), id -> checkHere());
      return keys;
    });
  }

  private Future<ApiKeysFile.Snapshot> readAtStart(int reads) {
    return vertx.executeBlocking(onDisk::read, false).compose(snapshot -> {
      if (snapshot.content() != null) {
        return Future.succeededFuture(snapshot);
      }
      if (reads <= 1) {
        return Future.failedFuture(new IllegalArgumentException(file + " kept changing while it was read at start; "
            + "write it whole (to a temporary file, then rename it into place)"));
      }
      Promise<Void> pause = Promise.promise();
      vertx.setTimer(100, id -> pause.complete());
      return pause.future().compose(v -> readAtStart(reads - 1));
    }, failure -> Future.failedFuture(new IllegalArgumentException("gateway.apiKeysFile: cannot read " + file + " ("
        + describe(failure) + ")", failure)));
  }

  /** The keys now. */
  public ApiKeys current() {
    return current;
  }

  public void stop() {
    vertx.cancelTimer(timer);
  }

  /**
   * Checks the file once, as the timer does every gateway.apiKeysFileCheckMs: takes a changed version that stayed
   * the same since the last check, refuses one that cannot be used. Completes when the check is done.
   */
  public Future<Void> check() {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> checkHere().onComplete(done));
    return done.future();
  }

  private Future<Void> checkHere() {
    if (file == null || checking) {
      return Future.succeededFuture();
    }
    checking = true;
    ApiKeysFile.Stamp known = inForce;
    ApiKeysFile.Stamp knownRefused = refused;
    ApiKeysFile.Stamp seenBefore = pending;
    return vertx.executeBlocking(() -> observe(known, knownRefused, seenBefore), false)
        .onComplete(observed -> checking = false)
        .map(observation -> {
          apply(observation);
          return null;
        });
  }

  /** What a check saw. */
  private record Observation(ApiKeysFile.Stamp stamp, String content, String failure, boolean known) {
  }

  /** Off the event loop: looks at the file, and reads it only if it changed and then stayed the same. */
  private Observation observe(ApiKeysFile.Stamp known, ApiKeysFile.Stamp knownRefused, ApiKeysFile.Stamp seenBefore) {
    try {
      ApiKeysFile.Stamp now = onDisk.stamp();
      if (now.equals(known) || now.equals(knownRefused)) {
        return new Observation(now, null, null, true);
      }
      if (!now.equals(seenBefore)) {
        return new Observation(now, null, null, false);
      }
      ApiKeysFile.Snapshot snapshot = onDisk.read();
      return new Observation(snapshot.stamp(), snapshot.content(), null, false);
    } catch (IOException | RuntimeException failure) {
      String reason = describe(failure);
      return new Observation(ApiKeysFile.Stamp.unreadable(reason), null, reason, false);
    }
  }

  private void apply(Observation seen) {
    if (seen.known()) {
      pending = null;
      if (seen.stamp().equals(inForce)) {
        fileRefused = false;
      }
      return;
    }
    if (seen.failure() != null) {
      pending = null;
      refuse(seen.stamp(), seen.failure());
      return;
    }
    if (seen.content() == null) {
      // Changed since the last check, or while it was read: look again next time.
      pending = seen.stamp();
      return;
    }
    pending = null;
    String cutOff = cutOff(seen.content());
    if (cutOff != null) {
      refuse(seen.stamp(), cutOff);
      return;
    }
    ApiKeys keys;
    try {
      keys = ApiKeysFile.parse(options, file, seen.content());
    } catch (IllegalArgumentException invalid) {
      refuse(seen.stamp(), invalid.getMessage());
      return;
    }
    refused = null;
    fileRefused = false;
    loaded(keys, seen.stamp(), seen.content());
  }

  /**
   * Why {@code content} is the content in force cut short in the middle of a line (a truncated file, or one being
   * rewritten in place), or null. A cut at a line break is a valid file with fewer keys: it is taken.
   */
  private String cutOff(String content) {
    if (content.isEmpty() || inForceContent == null || content.length() >= inForceContent.length()
        || !inForceContent.startsWith(content) || content.endsWith("\n") || content.endsWith("\r")) {
      return null;
    }
    long line = content.chars().filter(c -> c == '\n').count() + 1;
    return file + " is the keys file in force cut off in the middle of line " + line + " (a truncated file, or a "
        + "write in progress): it is not taken. Write the file whole, ending with a line break";
  }

  private void refuse(ApiKeysFile.Stamp stamp, String reason) {
    fileRefused = true;
    if (stamp.equals(refused)) {
      return;
    }
    refused = stamp;
    failedAtMs = System.currentTimeMillis();
    failure = reason;
    log.error("API keys file cannot be used; the keys loaded before stay in force until a valid file is read",
        kv("component", "gateway"), kv("file", file), kv("reason", reason), kv("keysInForce", current.size()),
        kv("loadedAt", Instant.ofEpochMilli(loadedAtMs).toString()));
  }

  private ApiKeys loaded(ApiKeys keys, ApiKeysFile.Stamp stamp, String content) {
    boolean reload = current != null;
    current = keys;
    inForce = stamp;
    inForceContent = content;
    loadedAtMs = System.currentTimeMillis();
    if (keys.isEmpty()) {
      log.warn("no API keys are configured: anyone who can reach this gateway may use its API. Set gateway.apiKeys, "
          + "gateway.apiKeysFile or SWITCHBOARD_API_KEYS before exposing it beyond this machine",
          kv("host", options.getHost()), kv("port", options.getHttpPort()));
    } else {
      log.info(reload ? "API keys reloaded from " + file : "API keys loaded", kv("component", "gateway"),
          kv("keys", keys.size()), kv("names", keys.all().stream().map(ApiKey::name).toList()),
          kv("adminKey", options.getAdminKey() == null ? "not set: /admin, /dashboard and /metrics are closed"
              : "set"));
    }
    return keys;
  }

  /** Where the keys stand, for /admin/cluster. */
  public JsonObject status() {
    return new JsonObject()
        .put("keys", current == null ? 0 : current.size())
        .put("file", file)
        .put("checkEveryMs", file == null ? null : options.getApiKeysFileCheckMs())
        .put("loadedAt", loadedAtMs == 0 ? null : Instant.ofEpochMilli(loadedAtMs).toString())
        .put("fileInForce", file == null ? null : !fileRefused)
        .put("lastFailureAt", failedAtMs == 0 ? null : Instant.ofEpochMilli(failedAtMs).toString())
        .put("lastFailure", failure);
  }

  private static String describe(Throwable failure) {
    if (failure instanceof NoSuchFileException) {
      return "the file does not exist (deleted, or renamed away)";
    }
    if (failure instanceof java.nio.file.AccessDeniedException) {
      return "permission denied";
    }
    return failure.getClass().getSimpleName() + ": " + failure.getMessage();
  }
}
