package io.switchboard.gateway.security;

import io.switchboard.runtime.config.GenerateOptions;
import io.switchboard.runtime.config.OptionChecks;

/**
 * What one client may ask of a gateway ({@code gateway.limits.*}): how big a request may be, how many messages
 * and tokens it may ask for, how long it may take to send and to take its answer, how many connections all clients
 * may hold, and how many bytes of request bodies the gateway holds at once. The
 * body size limit is {@code gateway.maxBodyBytes}; the whole-request time limit is {@code gateway.requestTimeoutMs}.
 */
@GenerateOptions
public abstract class LimitOptionsSpec {

  /** Messages one chat request may carry. */
  public static final int DEFAULT_MAX_MESSAGES = 2048;
  /** Largest {@code max_tokens} (or {@code max_completion_tokens}) a request may ask for; 0 = no cap. */
  public static final int DEFAULT_MAX_TOKENS = 131_072;
  /** Largest request head (all header lines together). */
  public static final int DEFAULT_MAX_HEADER_BYTES = 16_384;
  /** Longest request line (method, URL and version). */
  public static final int DEFAULT_MAX_URL_BYTES = 4096;
  /**
   * A client must send a whole request (head and body) within this long of opening the connection or of the
   * end of its previous response; an idle keep-alive connection is closed after it too. Bounds slow senders.
   */
  public static final long DEFAULT_REQUEST_READ_TIMEOUT_MS = 30_000;
  /** Connections all clients together may hold open to this gateway; beyond, new ones are closed at once. */
  public static final int DEFAULT_MAX_CONNECTIONS = 4096;
  /**
   * Bytes of request bodies this gateway holds at once, counted from each request's head until it ends; beyond,
   * 503. 0 = an eighth of the JVM's maximum heap (docs/security.md says why).
   */
  public static final long DEFAULT_MAX_IN_FLIGHT_BODY_BYTES = 0;
  /** How long a client may take none of its answer while the gateway holds bytes for it; then 499, closed. */
  public static final long DEFAULT_CLIENT_STALL_TIMEOUT_MS = 30_000;

  int maxMessages = DEFAULT_MAX_MESSAGES;
  int maxTokens = DEFAULT_MAX_TOKENS;
  int maxHeaderBytes = DEFAULT_MAX_HEADER_BYTES;
  int maxUrlBytes = DEFAULT_MAX_URL_BYTES;
  long requestReadTimeoutMs = DEFAULT_REQUEST_READ_TIMEOUT_MS;
  int maxConnections = DEFAULT_MAX_CONNECTIONS;
  long maxInFlightBodyBytes = DEFAULT_MAX_IN_FLIGHT_BODY_BYTES;
  long clientStallTimeoutMs = DEFAULT_CLIENT_STALL_TIMEOUT_MS;

  public void validate(String path) {
    OptionChecks.atLeast(path + ".maxMessages", maxMessages, 1);
    OptionChecks.atLeast(path + ".maxTokens (0 = no cap)", maxTokens, 0);
    OptionChecks.atLeast(path + ".maxHeaderBytes", maxHeaderBytes, 1024);
    OptionChecks.atLeast(path + ".maxUrlBytes", maxUrlBytes, 256);
    OptionChecks.atLeast(path + ".requestReadTimeoutMs", requestReadTimeoutMs, 100);
    OptionChecks.atLeast(path + ".maxConnections", maxConnections, 1);
    OptionChecks.atLeast(path + ".maxInFlightBodyBytes (0 = an eighth of the heap)", maxInFlightBodyBytes, 0);
    OptionChecks.atLeast(path + ".clientStallTimeoutMs", clientStallTimeoutMs, 100);
  }

  /**
   * The budget in force: {@code maxInFlightBodyBytes}, or when it is 0 an eighth of {@code maxHeapBytes}; never
   * less than one body of {@code maxBodyBytes}, so any request the gateway accepts can be served alone.
   */
  public long inFlightBodyBudget(long maxBodyBytes, long maxHeapBytes) {
    long budget = maxInFlightBodyBytes > 0 ? maxInFlightBodyBytes : maxHeapBytes / 8;
    return Math.max(budget, maxBodyBytes);
  }
}
