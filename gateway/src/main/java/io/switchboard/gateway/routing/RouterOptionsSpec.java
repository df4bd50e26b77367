package io.switchboard.gateway.routing;

import io.switchboard.runtime.config.FiniteNonNegative;
import io.switchboard.runtime.config.GenerateOptions;
import io.switchboard.runtime.config.Range;

/**
 * Tuning of the routing policies ({@code gateway.router.*}): how the prefix-aware policy remembers prompts and
 * weighs cache against load, when the balance guard overrides it, and how session affinity keys sessions.
 */
@GenerateOptions
public abstract class RouterOptionsSpec {

  /** Prompt characters per block of the prefix index; a prompt shorter than one block matches nothing. */
  @Range(min = 8, max = 65_536)
  int prefixBlockChars = 64;
  /** Blocks the prefix index remembers (least recently used forgotten first): about 40 bytes each. */
  @Range(min = 1024, max = 100_000_000)
  int prefixMaxBlocks = 262_144;
  /** A worker is assumed to have evicted a prefix nobody sent it for this long. */
  @Range(min = 1000)
  long prefixTtlMs = 600_000;
  /** Workers remembered per block (the least recent is dropped beyond): bounds the cost of one pick. */
  @Range(min = 1, max = 4096)
  int prefixWorkersPerBlock = 16;
  /** Weight of the uncached fraction of the prompt in a worker's cost. */
  @FiniteNonNegative
  double cacheWeight = 1.0;
  /** Weight of the prompt characters queued on the worker for prefill (sent, no first token yet) in its cost. */
  @FiniteNonNegative
  double queueWeight = 0.5;
  /** Weight of the worker's utilization (open requests per slot) in its cost. */
  @FiniteNonNegative
  double loadWeight = 1.0;
  /** The balance guard acts only when the chosen worker has at least this many more open requests than the least loaded. */
  @Range(min = 0, max = 1_000_000)
  int balanceAbsThreshold = 8;
  /** ... and more than this times the mean open requests of the model's workers. */
  double balanceRelThreshold = 1.5;
  /** Header that names a session for session affinity (the body's {@code user} field is used when absent). */
  String sessionHeader = "x-session-id";
  /** A session idle this long is forgotten. */
  @Range(min = 1000)
  long sessionTtlMs = 1_800_000;
  /** Sessions remembered (least recently used forgotten first). */
  @Range(min = 1, max = 100_000_000)
  int sessionMaxEntries = 100_000;
  /** Whether gateways tell each other, over the event bus, which prompt prefixes they sent to which worker. */
  boolean sharePrefixes = true;

  /** Fails with a message naming the key under {@code path} and what it accepts. */
  public void validate(String path) {
    if (!(balanceRelThreshold >= 1.0) || Double.isInfinite(balanceRelThreshold)) {
      throw new IllegalArgumentException(path + ".balanceRelThreshold must be a finite number >= 1.0 (how many times "
          + "the mean load a worker may carry before the balance guard sends work elsewhere), got "
          + balanceRelThreshold);
    }
    if (sessionHeader == null || !sessionHeader.matches("[A-Za-z0-9-]+")) {
      throw new IllegalArgumentException(path + ".sessionHeader must be an HTTP header name (letters, digits, '-'), "
          + "got '" + sessionHeader + "'");
    }
  }
}
