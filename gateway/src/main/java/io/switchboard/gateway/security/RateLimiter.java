package io.switchboard.gateway.security;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Counter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Requests per minute and tokens per minute per API key, counted across every gateway of the cluster: each limit
 * is one cluster-wide counter (Vert.x shared data, which a clustered node keeps in Hazelcast) holding the key's
 * "theoretical arrival time" in wall-clock microseconds (GCRA, a token bucket in one number): each request pushes
 * it forward by a minute / rpm, each completed request by its tokens × a minute / tpm, and a request is refused
 * while it lies more than a minute ahead. So a key may burst a minute's allowance, then gets a steady rate, and
 * nothing needs resetting at minute boundaries. Tokens are charged when a request finishes (the count is then
 * known); a key over its token budget is refused until the budget refills.
 *
 * <p>What it guarantees: a request it admits is counted. A request's count is a compare-and-set; after
 * {@code CAS_TRIES} lost races it falls back to an atomic add, which always counts (and is taken back if it lands
 * over the limit). Every admit answers within {@link #ANSWER_WITHIN_MS}: if the counters have not answered by then
 * (a partition: Hazelcast's own timeouts are far longer; or a slow, overloaded cluster), the request is let through
 * or refused, as {@code gateway.rateLimits.whenUnreachable} says, and for {@link #UNREACHABLE_PAUSE_MS} after that
 * admits answer the same way without waiting for the counters. Their counts still go to the counters and land late
 * (a slow cluster loses none); only while {@link #MAX_LATE_COUNTS} counts are still unanswered (the counters are
 * really cut off) are further requests left uncounted, so calls that hang cannot pile up.
 */
public final class RateLimiter {

  /** Where the limits' counters live: the cluster's shared data, or something that behaves like it in a test. */
  @FunctionalInterface
  public interface Counters {
    Future<Counter> counter(String name);
  }

  private static final Logger log = LoggerFactory.getLogger(RateLimiter.class);
  static final long MINUTE_US = 60_000_000L;
  /** Longest an admit waits for the counters. */
  static final long ANSWER_WITHIN_MS = 100;
  /** After the counters failed to answer, how long admits answer without asking them. */
  static final long UNREACHABLE_PAUSE_MS = 1000;
  static final int CAS_TRIES = 32;
  /** Counts sent without waiting for their answer that may be unanswered at once; past it, requests go uncounted. */
  static final int MAX_LATE_COUNTS = 1024;

  private final Vertx vertx;
  private final Counters source;
  private final LongSupplier clockMicros;
  private final boolean refuseWhenUnreachable;
  private final int casTries;
  private final long answerWithinMs;
  private final int maxLateCounts;
  /** Counts and charges under way that nobody waits for. */
  private final java.util.concurrent.atomic.AtomicInteger lateCounts = new java.util.concurrent.atomic.AtomicInteger();
  private final AtomicLong countedLate = new AtomicLong();
  private final AtomicLong uncounted = new AtomicLong();
  private final Map<String, Future<Counter>> counters = new ConcurrentHashMap<>();
  private final LogThrottle warnings = new LogThrottle(10_000);
  private final AtomicLong answeredWithoutWaiting = new AtomicLong();
  private volatile long unreachableUntilNanos = System.nanoTime();
  private volatile String unreachableBecause;
  private volatile long unreachableSinceMs;

  public RateLimiter(Vertx vertx, RateLimitOptions options) {
    this(vertx, name -> vertx.sharedData().getCounter(name), () -> System.currentTimeMillis() * 1000,
        options.refusesWhenUnreachable(), CAS_TRIES, ANSWER_WITHIN_MS, MAX_LATE_COUNTS);
  }

  RateLimiter(Vertx vertx, Counters source, LongSupplier clockMicros, boolean refuseWhenUnreachable, int casTries,
              long answerWithinMs) {
    this(vertx, source, clockMicros, refuseWhenUnreachable, casTries, answerWithinMs, MAX_LATE_COUNTS);
  }

  RateLimiter(Vertx vertx, Counters source, LongSupplier clockMicros, boolean refuseWhenUnreachable, int casTries,
              long answerWithinMs, int maxLateCounts) {
    this.vertx = vertx;
    this.source = source;
    this.clockMicros = clockMicros;
    this.refuseWhenUnreachable = refuseWhenUnreachable;
    this.casTries = casTries;
    this.answerWithinMs = answerWithinMs;
    this.maxLateCounts = maxLateCounts;
  }

  /**
   * The answer for one request: let through or not, and the x-ratelimit-* headers to send either way.
   *
   * @param unreachable why the counters could not be asked (the request was let through uncounted, or refused
   *                    when {@code allowed} is false); null when they answered
   */
  public record Decision(boolean allowed, String exceeded, long limit, long retryAfterMs, Map<String, String> headers,
                         String unreachable) {

    static final Decision UNLIMITED = new Decision(true, null, 0, 0, Map.of(), null);

    /** Retry-After in whole seconds, at least 1. */
    public long retryAfterSeconds() {
      return Math.max(1, (retryAfterMs + 999) / 1000);
    }
  }

  /** Takes one request from {@code key}'s allowance and checks its token budget; answers within 100 ms. */
  public Future<Decision> admit(ApiKey key) {
    if (!key.rateLimited()) {
      return Future.succeededFuture(Decision.UNLIMITED);
    }
    if (System.nanoTime() - unreachableUntilNanos < 0) {
      countLate(() -> count(key));
      return Future.succeededFuture(unreachable(key, "admit", unreachableBecause, false));
    }
    Future<Decision> counted = count(key);
    if (counted.isComplete()) {
      return counted.succeeded() ? counted
          : Future.succeededFuture(unreachable(key, "admit", String.valueOf(counted.cause().getMessage()), true));
    }
    Promise<Decision> answer = Promise.promise();
    long timer = vertx.setTimer(answerWithinMs, id -> {
      if (!answer.future().isComplete()) {
        answer.tryComplete(unreachable(key, "admit", "the cluster's counters did not answer within "
            + answerWithinMs + " ms", true));
        // The count goes on and lands late; until it does, it is one of the late counts.
        lateCounts.incrementAndGet();
        counted.onComplete(done -> countLanded(done.succeeded()));
      }
    });
    counted.onComplete(result -> {
      vertx.cancelTimer(timer);
      if (!answer.future().isComplete()) {
        answer.tryComplete(result.succeeded() ? result.result()
            : unreachable(key, "admit", String.valueOf(result.cause().getMessage()), true));
      }
    });
    return answer.future();
  }

  private Future<Decision> count(ApiKey key) {
    Future<long[]> requests = key.requestsPerMinute() > 0
        ? counter(key, "requests").compose(c -> takeRequest(c, MINUTE_US / key.requestsPerMinute(), casTries))
        : Future.succeededFuture(null);
    Future<Long> tokens = key.tokensPerMinute() > 0 ? counter(key, "tokens").compose(Counter::get)
        : Future.succeededFuture(null);
    return Future.all(requests, tokens).map(all -> decide(key, requests.result(), tokens.result()));
  }

  /** Charges {@code tokens} (prompt + completion) to {@code key}'s token budget. */
  public void charge(ApiKey key, long tokens) {
    if (key.tokensPerMinute() <= 0 || tokens <= 0) {
      return;
    }
    long cost = (long) Math.ceil(tokens * (double) MINUTE_US / key.tokensPerMinute());
    if (System.nanoTime() - unreachableUntilNanos < 0) {
      countLate(() -> counter(key, "tokens").compose(c -> push(c, cost, casTries)));
      return;
    }
    counter(key, "tokens").compose(c -> push(c, cost, casTries)).onFailure(failure -> {
      markUnreachable(String.valueOf(failure.getMessage()));
      warn(key, "charge tokens", String.valueOf(failure.getMessage()));
    });
  }

  /**
   * Sends a count without waiting for it, unless {@code maxLateCounts} are already unanswered (the counters are cut
   * off, not slow): then the request stays uncounted, and says so in {@link #status()}.
   */
  private void countLate(java.util.function.Supplier<Future<?>> count) {
    if (lateCounts.incrementAndGet() > maxLateCounts) {
      lateCounts.decrementAndGet();
      uncounted.incrementAndGet();
      return;
    }
    count.get().onComplete(done -> countLanded(done.succeeded()));
  }

  private void countLanded(boolean succeeded) {
    lateCounts.decrementAndGet();
    if (succeeded) {
      countedLate.incrementAndGet();
    }
  }

  /** Where the limiter stands, for /admin/cluster. */
  public JsonObject status() {
    boolean paused = System.nanoTime() - unreachableUntilNanos < 0;
    return new JsonObject()
        .put("whenUnreachable", refuseWhenUnreachable ? "refuse" : "allow")
        .put("counters", paused ? "unreachable: " + unreachableBecause : "reachable")
        .put("lastUnreachableAt", unreachableSinceMs == 0 ? null : java.time.Instant.ofEpochMilli(unreachableSinceMs)
            .toString())
        .put("lastUnreachableReason", unreachableBecause)
        .put("answeredWithoutWaiting", answeredWithoutWaiting.get())
        .put("countedLate", countedLate.get())
        .put("countsUnderWay", lateCounts.get())
        .put("uncounted", uncounted.get());
  }

  /**
   * The answer while the counters cannot be asked: let through uncounted, or refused, by
   * gateway.rateLimits.whenUnreachable. {@code failedNow} marks a fresh failure (which starts the pause).
   */
  private Decision unreachable(ApiKey key, String action, String reason, boolean failedNow) {
    if (failedNow) {
      markUnreachable(reason);
    }
    answeredWithoutWaiting.incrementAndGet();
    warn(key, action, reason);
    return refuseWhenUnreachable
        ? new Decision(false, null, 0, UNREACHABLE_PAUSE_MS, Map.of(), reason)
        : new Decision(true, null, 0, 0, Map.of(), reason);
  }

  private void markUnreachable(String reason) {
    unreachableBecause = reason;
    unreachableSinceMs = System.currentTimeMillis();
    unreachableUntilNanos = System.nanoTime() + UNREACHABLE_PAUSE_MS * 1_000_000;
  }

  private Decision decide(ApiKey key, long[] request, Long tokensTat) {
    long now = clockMicros.getAsLong();
    Map<String, String> headers = new LinkedHashMap<>();
    boolean allowed = true;
    String exceeded = null;
    long limit = 0;
    long retryAfterUs = 0;
    if (request != null) {
      long interval = MINUTE_US / key.requestsPerMinute();
      boolean taken = request[0] == 1;
      long tat = request[1];
      headers.put("x-ratelimit-limit-requests", String.valueOf(key.requestsPerMinute()));
      headers.put("x-ratelimit-remaining-requests",
          String.valueOf(Math.max(0, (MINUTE_US - Math.max(0, tat - now)) / interval)));
      headers.put("x-ratelimit-reset-requests", duration(Math.max(0, tat - now)));
      if (!taken) {
        allowed = false;
        exceeded = "requests";
        limit = key.requestsPerMinute();
        retryAfterUs = tat + interval - now - MINUTE_US;
      }
    }
    if (tokensTat != null) {
      double perToken = (double) MINUTE_US / key.tokensPerMinute();
      long ahead = Math.max(0, tokensTat - now);
      headers.put("x-ratelimit-limit-tokens", String.valueOf(key.tokensPerMinute()));
      headers.put("x-ratelimit-remaining-tokens", String.valueOf((long) Math.max(0, (MINUTE_US - ahead) / perToken)));
      headers.put("x-ratelimit-reset-tokens", duration(ahead));
      if (ahead > MINUTE_US && allowed) {
        allowed = false;
        exceeded = "tokens";
        limit = key.tokensPerMinute();
        retryAfterUs = ahead - MINUTE_US;
      }
    }
    return new Decision(allowed, exceeded, limit, Math.max(0, retryAfterUs / 1000), headers, null);
  }

  /** GCRA: returns {1, new tat} when the request was taken (and counted), {0, current tat} when it would exceed. */
  private Future<long[]> takeRequest(Counter counter, long interval, int tries) {
    return counter.get().compose(stored -> {
      long now = clockMicros.getAsLong();
      long tat = Math.max(stored, now);
      if (tat + interval - now > MINUTE_US) {
        return Future.succeededFuture(new long[] {0, tat});
      }
      return counter.compareAndSet(stored, tat + interval).compose(swapped -> swapped
          ? Future.succeededFuture(new long[] {1, tat + interval})
          : tries > 1 ? takeRequest(counter, interval, tries - 1) : takeByAdding(counter, interval));
    });
  }

  /**
   * After every compare-and-set lost a race: an atomic add counts the request whatever the others do. Other
   * requests kept moving the counter, so it lies at or after now and the add is what the compare-and-set would
   * have written. An add that lands over the limit is taken back and the request refused.
   */
  private Future<long[]> takeByAdding(Counter counter, long interval) {
    return counter.addAndGet(interval).compose(tat -> tat - clockMicros.getAsLong() <= MINUTE_US
        ? Future.succeededFuture(new long[] {1, tat})
        : counter.addAndGet(-interval).map(refunded -> new long[] {0, tat - interval}));
  }

  private Future<Long> push(Counter counter, long cost, int tries) {
    return counter.get().compose(stored -> {
      long next = Math.max(stored, clockMicros.getAsLong()) + cost;
      return counter.compareAndSet(stored, next).compose(swapped -> swapped ? Future.succeededFuture(next)
          : tries > 1 ? push(counter, cost, tries - 1) : counter.addAndGet(cost));
    });
  }

  private Future<Counter> counter(ApiKey key, String kind) {
    String name = "switchboard.ratelimit." + key.name() + "." + kind;
    Future<Counter> counter = counters.computeIfAbsent(name, source::counter);
    if (counter.failed()) {
      counters.remove(name, counter);
    }
    return counter;
  }

  private void warn(ApiKey key, String action, String reason) {
    if (warnings.due(System.currentTimeMillis()) >= 0) {
      log.warn(refuseWhenUnreachable
              ? "rate-limit counters unreachable: refusing rate-limited requests (gateway.rateLimits.whenUnreachable)"
              : "rate-limit counters unreachable: letting rate-limited requests through uncounted "
                  + "(gateway.rateLimits.whenUnreachable)",
          kv("key", key.name()), kv("action", action), kv("component", "gateway"), kv("reason", reason));
    }
  }

  /** OpenAI's reset format: "20ms", "7s", "6m0s". */
  static String duration(long micros) {
    long ms = (micros + 999) / 1000;
    if (ms < 1000) {
      return ms + "ms";
    }
    long seconds = (ms + 999) / 1000;
    return seconds < 60 ? seconds + "s" : seconds / 60 + "m" + seconds % 60 + "s";
  }
}
