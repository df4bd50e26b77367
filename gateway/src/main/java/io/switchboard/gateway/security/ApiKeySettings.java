package io.switchboard.gateway.security;

import java.util.List;

/**
 * What the API keys ({@link ApiKeySource}, {@link ApiKeysFile}) read of the gateway's settings. The gateway's options
 * implement it, so the security package does not depend on the package that holds every gateway setting (and
 * through it on the packages above).
 */
public interface ApiKeySettings {

  /** Keys listed in the settings themselves ({@code gateway.apiKeys}). */
  List<String> getApiKeys();

  /** A file of further keys, read again when it changes; null or blank for none. */
  String getApiKeysFile();

  /** How often the keys file is checked for a change. */
  long getApiKeysFileCheckMs();

  /** The limits of a key that names none of its own. */
  RateLimitOptions getRateLimits();

  /** The operator's key; null when none is set. */
  String getAdminKey();

  /** Where the gateway listens, for the warning that an API without keys is open to whoever reaches it. */
  String getHost();

  int getHttpPort();
}
