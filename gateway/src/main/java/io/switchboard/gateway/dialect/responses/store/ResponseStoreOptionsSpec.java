package io.switchboard.gateway.dialect.responses.store;

import io.switchboard.runtime.config.GenerateOptions;

/**
 * Where stored Responses-API answers live ({@code gateway.responses.*}): a map shared by the whole cluster, so a
 * follow-up with {@code previous_response_id} or a {@code GET /v1/responses/{id}} may reach any gateway. Bounded by
 * memory on every node (the least recently used entries go first) and by age.
 */
@GenerateOptions
public abstract class ResponseStoreOptionsSpec {

  /** The cluster map's name; the node configures its bounds under this name. */
  public static final String MAP_NAME = "switchboard.responses";

  /** Seconds a stored response is kept after it was written. */
  int ttlSeconds = 3600;
  /** Megabytes of stored responses each node holds at most (its share of the cluster's map). */
  int maxMegabytes = 64;

  public void validate(String path) {
    if (ttlSeconds < 1 || ttlSeconds > 30 * 24 * 3600) {
      throw new IllegalArgumentException(path + ".ttlSeconds must be between 1 and 2592000 (30 days), got "
          + ttlSeconds);
    }
    if (maxMegabytes < 1 || maxMegabytes > 1024 * 1024) {
      throw new IllegalArgumentException(path + ".maxMegabytes must be between 1 and 1048576, got " + maxMegabytes
          + "; it bounds the heap each node gives to stored responses");
    }
  }
}
