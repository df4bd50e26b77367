package io.switchboard.gateway.security;

import io.switchboard.runtime.config.OptionChecks;
import io.switchboard.runtime.config.OptionsJson;
import io.vertx.codegen.annotations.DataObject;
import io.vertx.codegen.json.annotations.JsonGen;
import io.vertx.core.json.JsonObject;

/**
 * What one client may ask of a gateway ({@code gateway.limits.*}): how big a request may be, how many messages
 * and tokens it may ask for, how long it may take to send and to take its answer, how many connections all clients
 * may hold, and how many bytes of request bodies the gateway holds at once. The
 * body size limit is {@code gateway.maxBodyBytes}; the whole-request time limit is {@code gateway.requestTimeoutMs}.
 */
@DataObject
@JsonGen(publicConverter = false)
public class LimitOptions {

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

  private int maxMessages = DEFAULT_MAX_MESSAGES;
  private int maxTokens = DEFAULT_MAX_TOKENS;
  private int maxHeaderBytes = DEFAULT_MAX_HEADER_BYTES;
  private int maxUrlBytes = DEFAULT_MAX_URL_BYTES;
  private long requestReadTimeoutMs = DEFAULT_REQUEST_READ_TIMEOUT_MS;
  private int maxConnections = DEFAULT_MAX_CONNECTIONS;
  private long maxInFlightBodyBytes = DEFAULT_MAX_IN_FLIGHT_BODY_BYTES;
  private long clientStallTimeoutMs = DEFAULT_CLIENT_STALL_TIMEOUT_MS;

  public LimitOptions() {
  }

  public LimitOptions(JsonObject json) {
    LimitOptionsConverter.fromJson(json, this);
  }

  public JsonObject toJson() {
    return OptionsJson.write(this, LimitOptionsConverter::toJson);
  }

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


  public int getMaxMessages() {
    return maxMessages;
  }

  public LimitOptions setMaxMessages(int maxMessages) {
    this.maxMessages = maxMessages;
    return this;
  }

  public int getMaxTokens() {
    return maxTokens;
  }

  public LimitOptions setMaxTokens(int maxTokens) {
    this.maxTokens = maxTokens;
    return this;
  }

  public int getMaxHeaderBytes() {
    return maxHeaderBytes;
  }

  public LimitOptions setMaxHeaderBytes(int maxHeaderBytes) {
    this.maxHeaderBytes = maxHeaderBytes;
    return this;
  }

  public int getMaxUrlBytes() {
    return maxUrlBytes;
  }

  public LimitOptions setMaxUrlBytes(int maxUrlBytes) {
    this.maxUrlBytes = maxUrlBytes;
    return this;
  }

  public long getRequestReadTimeoutMs() {
    return requestReadTimeoutMs;
  }

  public LimitOptions setRequestReadTimeoutMs(long requestReadTimeoutMs) {
    this.requestReadTimeoutMs = requestReadTimeoutMs;
    return this;
  }

  public long getMaxInFlightBodyBytes() {
    return maxInFlightBodyBytes;
  }

  public LimitOptions setMaxInFlightBodyBytes(long maxInFlightBodyBytes) {
    this.maxInFlightBodyBytes = maxInFlightBodyBytes;
    return this;
  }

  /**
   * The budget in force: {@code maxInFlightBodyBytes}, or when it is 0 an eighth of {@code maxHeapBytes}; never
   * less than one body of {@code maxBodyBytes}, so any request the gateway accepts can be served alone.
   */
  public long inFlightBodyBudget(long maxBodyBytes, long maxHeapBytes) {
    long budget = maxInFlightBodyBytes > 0 ? maxInFlightBodyBytes : maxHeapBytes / 8;
    return Math.max(budget, maxBodyBytes);
  }

  public int getMaxConnections() {
    return maxConnections;
  }

  public LimitOptions setMaxConnections(int maxConnections) {
    this.maxConnections = maxConnections;
    return this;
  }

  public long getClientStallTimeoutMs() {
    return clientStallTimeoutMs;
  }

  public LimitOptions setClientStallTimeoutMs(long clientStallTimeoutMs) {
    this.clientStallTimeoutMs = clientStallTimeoutMs;
    return this;
  }
}
