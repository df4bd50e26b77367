package io.switchboard.gateway.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The API keys a gateway accepts, read from {@code gateway.apiKeys} entries and the lines of
 * {@code gateway.apiKeysFile}. An entry is {@code KEY[;name=NAME][;models=M1|M2][;rpm=N][;tpm=N][;concurrency=N]},
 * where KEY is
 * the key itself or {@code sha256:<64 hex digits>} (so the key need not be written anywhere in clear). Only hashes
 * are kept; a presented key is hashed and compared with every known hash in constant time.
 */
public final class ApiKeys {

  public static final String HASH_PREFIX = "sha256:";

  private final List<ApiKey> keys;

  private ApiKeys(List<ApiKey> keys) {
    this.keys = List.copyOf(keys);
  }

  /**
   * Parses entries; {@code source} names where they came from in error messages, e.g. "gateway.apiKeys[2]" or
   * "/etc/switchboard/keys line 7". Blank entries and lines starting with '#' are skipped.
   */
  public static ApiKeys parse(List<Entry> entries, RateLimitOptions defaults) {
    List<ApiKey> keys = new ArrayList<>();
    Set<String> names = new LinkedHashSet<>();
    Set<String> hashes = new LinkedHashSet<>();
    for (Entry entry : entries) {
      String text = entry.text().strip();
      if (text.isEmpty() || text.startsWith("#")) {
        continue;
      }
      ApiKey key = parseOne(text, entry.source(), defaults);
      if (!hashes.add(HexFormat.of().formatHex(key.sha256()))) {
        throw new IllegalArgumentException(entry.source() + ": the same API key is listed twice");
      }
      if (!names.add(key.name())) {
        throw new IllegalArgumentException(entry.source() + ": two API keys are named '" + key.name()
            + "'; names must be unique (they name the rate-limit counters)");
      }
      keys.add(key);
    }
    return new ApiKeys(keys);
  }

  /** One line of key configuration and where it came from. */
  public record Entry(String text, String source) {
  }

  private static ApiKey parseOne(String text, String source, RateLimitOptions defaults) {
    String[] parts = text.split(";");
    String secret = parts[0].strip();
    if (secret.isEmpty()) {
      throw new IllegalArgumentException(source + ": an API key entry must start with the key, e.g. "
          + "'sk-team-a-1234;name=team-a;models=llama|qwen;rpm=600;tpm=200000;concurrency=8'");
    }
    if (!isHashForm(secret) && secret.chars().anyMatch(c -> c <= ' ' || c > '~')) {
      throw new IllegalArgumentException(source + ": an API key may hold only visible ASCII characters (no spaces)");
    }
    byte[] hash = hashOf(secret, source);
    String name = "key-" + HexFormat.of().formatHex(hash, 0, 6);
    Set<String> models = Set.of();
    long rpm = defaults.getRequestsPerMinute();
    long tpm = defaults.getTokensPerMinute();
    long concurrency = defaults.getConcurrentRequests();
    for (int i = 1; i < parts.length; i++) {
      String attribute = parts[i].strip();
      int eq = attribute.indexOf('=');
      String field = eq < 0 ? attribute : attribute.substring(0, eq).strip();
      String value = eq < 0 ? "" : attribute.substring(eq + 1).strip();
      switch (field) {
        case "name" -> {
          if (!value.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException(source + ": name= must be 1-64 letters, digits, '.', '_' or '-', got '"
                + value + "'");
          }
          name = value;
        }
        case "models" -> {
          Set<String> listed = new LinkedHashSet<>();
          for (String model : value.split("\\|")) {
            if (!model.isBlank()) {
              listed.add(model.strip());
            }
          }
          if (listed.isEmpty()) {
            throw new IllegalArgumentException(source + ": models= must list model names separated by '|', e.g. "
                + "models=llama|qwen");
          }
          models = Set.copyOf(listed);
        }
        case "rpm" -> rpm = number(value, "rpm", source);
        case "tpm" -> tpm = number(value, "tpm", source);
        case "concurrency" -> concurrency = Math.min(number(value, "concurrency", source), Integer.MAX_VALUE);
        default -> throw new IllegalArgumentException(source + ": unknown API key attribute '" + field
            + "' (known: name, models, rpm, tpm, concurrency)");
      }
    }
    return new ApiKey(name, hash, models, rpm, tpm, (int) concurrency);
  }

  private static long number(String value, String field, String source) {
    try {
      long parsed = Long.parseLong(value);
      if (parsed >= 0) {
        return parsed;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw new IllegalArgumentException(source + ": " + field + "= must be a whole number >= 0 (0 = no limit), got '"
        + value + "'");
  }

  /** The key whose hash matches the presented key's, or null. Looks at every key, whichever matches. */
  public ApiKey find(String presented) {
    byte[] hash = sha256(presented);
    ApiKey match = null;
    for (ApiKey key : keys) {
      if (MessageDigest.isEqual(hash, key.sha256())) {
        match = key;
      }
    }
    return match;
  }

  public boolean isEmpty() {
    return keys.isEmpty();
  }

  public int size() {
    return keys.size();
  }

  public List<ApiKey> all() {
    return keys;
  }

  /**
   * The SHA-256 of a key given either as itself or as {@code sha256:<64 hex digits>} (API keys and the admin key
   * alike); {@code source} names the setting in the error for a malformed hash.
   */
  public static byte[] hashOf(String keyOrHash, String source) {
    if (!isHashForm(keyOrHash)) {
      return sha256(keyOrHash);
    }
    String hex = keyOrHash.substring(HASH_PREFIX.length());
    if (!hex.matches("[0-9a-fA-F]{64}")) {
      throw new IllegalArgumentException(source + ": '" + HASH_PREFIX + "' must be followed by the 64 hex digits of "
          + "the key's SHA-256 (printf %s KEY | sha256sum)");
    }
    return HexFormat.of().parseHex(hex);
  }

  private static boolean isHashForm(String keyOrHash) {
    return keyOrHash.regionMatches(true, 0, HASH_PREFIX, 0, HASH_PREFIX.length());
  }

  public static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException impossible) {
      throw new IllegalStateException("every JVM has SHA-256", impossible);
    }
  }
}
