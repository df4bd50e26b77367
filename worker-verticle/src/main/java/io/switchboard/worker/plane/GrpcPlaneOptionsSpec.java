package io.switchboard.worker.plane;

import io.switchboard.protocol.PlaneMessageLimit;
import io.switchboard.runtime.config.GenerateOptions;
import io.switchboard.runtime.config.Range;

/**
 * Where a node's shared gRPC request-plane server listens, the address workers publish for it, and the largest
 * message the request planes carry between nodes. The host defaults to the node's cluster host (the address other
 * nodes already reach it by); port 0 lets the OS pick a free port, and workers publish the port actually bound.
 */
@GenerateOptions
public abstract class GrpcPlaneOptionsSpec {

  public static final int DEFAULT_PORT = 0;
  /** The largest message between gateway and worker, both ways (see {@link PlaneMessageLimit#DEFAULT_MAX_BYTES}). */
  public static final int DEFAULT_MAX_MESSAGE_BYTES = PlaneMessageLimit.DEFAULT_MAX_BYTES;
  /** Below this, ordinary answers (a tool call, an embeddings answer) would not fit. */
  static final int MIN_MAX_MESSAGE_BYTES = 1024 * 1024;

  String host;
  @Range(min = 0, max = 65535, meaning = " (0 = any free port)")
  int port = DEFAULT_PORT;
  String advertisedHost;
  int maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;

  /** Fails with a message naming the key under {@code path} and what it accepts. */
  public void validate(String path) {
    if (host != null && host.isBlank()) {
      throw new IllegalArgumentException(path + ".host must be an address to listen on (e.g. 127.0.0.1 or 0.0.0.0), "
          + "or be left out to use cluster.host");
    }
    if (advertisedHost != null && (advertisedHost.isBlank() || isWildcard(advertisedHost))) {
      throw new IllegalArgumentException(path + ".advertisedHost must be an address other nodes can connect to, got '"
          + advertisedHost + "'");
    }
    if (maxMessageBytes < MIN_MAX_MESSAGE_BYTES) {
      throw new IllegalArgumentException(path + ".maxMessageBytes must be >= " + MIN_MAX_MESSAGE_BYTES
          + " (1 MiB), got " + maxMessageBytes + "; the default is " + DEFAULT_MAX_MESSAGE_BYTES);
    }
    if (host != null && isWildcard(host) && advertisedHost == null) {
      throw new IllegalArgumentException(path + ".host " + host + " listens on every interface, so workers cannot "
          + "publish it: set " + path + ".advertisedHost to the address other nodes reach this one by");
    }
  }

  private static boolean isWildcard(String address) {
    return "0.0.0.0".equals(address) || "::".equals(address) || "[::]".equals(address);
  }

  /** {@code maxMessageBytes} as the planes apply it. */
  public PlaneMessageLimit messageLimit() {
    return new PlaneMessageLimit(maxMessageBytes);
  }

  /** The address published in discovery records: the advertised host, else the bind host. */
  public String publishedHost() {
    return advertisedHost != null ? advertisedHost : host;
  }
}
