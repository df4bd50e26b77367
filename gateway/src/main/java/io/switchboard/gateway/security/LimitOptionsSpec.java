package io.switchboard.gateway.security;

import io.switchboard.runtime.config.GenerateOptions;
import io.switchboard.runtime.config.Range;

/**
 * What one client may ask of a gateway ({@code gateway.limits.*}): how big a request may be, how many messages
 * and tokens it may ask for, how long it may take to send and to take its answer, how many connections all clients
 * may hold, and how many bytes of request bodies the gateway holds at once. The
 * body size limit is {@code gateway.maxBodyBytes}; the whole-request time limit is {@code gateway.requestTimeoutMs}.
 */
@GenerateOptions
public abstract class LimitOptionsSpec {

  /** Messages one chat request may carry. */
  @Range(min = 1)
  int maxMessages = 2048;
  /** Largest {@code max_tokens} (or {@code max_completion_tokens}) a request may ask for; 0 = no cap. */
  @Range(min = 0, meaning = " (0 = no cap)")
  int maxTokens = 131_072;
  /** Largest request head (all header lines together). */
  @Range(min = 1024)
  int maxHeaderBytes = 16_384;
  /** Longest request line (method, URL and version). */
  @Range(min = 256)
  int maxUrlBytes = 4096;
  /**
   * A client must send a whole request (head and body) within this long of opening the connection or of the
   * end of its previous response; an idle keep-alive connection is closed after it too. Bounds slow senders.
   */
  @Range(min = 100)
  long requestReadTimeoutMs = 30_000;
  /** Connections all clients together may hold open to this gateway; beyond, new ones are closed at once. */
  @Range(min = 1)
  int maxConnections = 4096;
  /**
   * Bytes of request bodies this gateway holds at once, counted from each request's head until it ends; beyond,
   * 503. 0 = an eighth of the JVM's maximum heap (docs/security.md says why).
   */
  @Range(min = 0, meaning = " (0 = an eighth of the heap)")
  long maxInFlightBodyBytes = 0;
  /** How long a client may take none of its answer while the gateway holds bytes for it; then 499, closed. */
  @Range(min = 100)
  long clientStallTimeoutMs = 30_000;


  /**
   * The budget in force: {@code maxInFlightBodyBytes}, or when it is 0 an eighth of {@code maxHeapBytes}; never
   * less than one body of {@code maxBodyBytes}, so any request the gateway accepts can be served alone.
   */
  public long inFlightBodyBudget(long maxBodyBytes, long maxHeapBytes) {
    long budget = maxInFlightBodyBytes > 0 ? maxInFlightBodyBytes : maxHeapBytes / 8;
    return Math.max(budget, maxBodyBytes);
  }
}
