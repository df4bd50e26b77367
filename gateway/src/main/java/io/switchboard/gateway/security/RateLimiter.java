package io.switchboard.gateway.security;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Counter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
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
 * <p>If the counters cannot be reached (the cluster is in trouble) requests are let through and a warning is
 * logged: a rate limit is not worth an outage.
 */
public final class RateLimiter {

  private static final Logger log = LoggerFactory.getLogger(RateLimiter.class);
  static final long MINUTE_US = 60_000_000L;
  private static final int CAS_TRIES = 32;

  private final Vertx vertx;
  private final LongSupplier clockMicros;
  private final Map<String, Future<Counter>> counters = new ConcurrentHashMap<>();
  private final LogThrottle warnings = new LogThrottle(10_000);

  public RateLimiter(Vertx vertx) {
    this(vertx, () -> System.currentTimeMillis() * 1000);
  }

  RateLimiter(Vertx vertx, LongSupplier clockMicros) {
    this.vertx = vertx;
    this.clockMicros = clockMicros;
  }

  /** The answer for one request: let through or not, and the x-ratelimit-* headers to send either way. */
  public record Decision(boolean allowed, String exceeded, long limit, long retryAfterMs, Map<String, String> headers) {

    static final Decision UNLIMITED = new Decision(true, null, 0, 0, Map.of());

    /** Retry-After in whole seconds, at least 1. */
    public long retryAfterSeconds() {
      return Math.max(1, (retryAfterMs + 999) / 1000);
    }
  }

  /** Takes one request from {@code key}'s allowance and checks its token budget. */
  public Future<Decision> admit(ApiKey key) {
    if (!key.rateLimited()) {
      return Future.succeededFuture(Decision.UNLIMITED);
    }
    Future<long[]> requests = key.requestsPerMinute() > 0
        ? counter(key, "requests").compose(c -> takeRequest(c, MINUTE_US / key.requestsPerMinute(), CAS_TRIES))
        : Future.succeededFuture(null);
    Future<Long> tokens = key.tokensPerMinute() > 0 ? counter(key, "tokens").compose(Counter::get)
        : Future.succeededFuture(null);
    return Future.all(requests, tokens).map(all -> decide(key, requests.result(), tokens.result()))
        .recover(failure -> {
          warn(key, "admit", failure);
          return Future.succeededFuture(Decision.UNLIMITED);
        });
  }

  /** Charges {@code tokens} (prompt + completion) to {@code key}'s token budget. */
  public void charge(ApiKey key, long tokens) {
    if (key.tokensPerMinute() <= 0 || tokens <= 0) {
      return;
    }
    long cost = (long) Math.ceil(tokens * (double) MINUTE_US / key.tokensPerMinute());
    counter(key, "tokens").compose(c -> push(c, cost, CAS_TRIES))
        .onFailure(failure -> warn(key, "charge tokens", failure));
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
    return new Decision(allowed, exceeded, limit, Math.max(0, retryAfterUs / 1000), headers);
  }

  /** GCRA: returns {1, new tat} when the request was taken, {0, current tat} when it would exceed the limit. */
  private Future<long[]> takeRequest(Counter counter, long interval, int tries) {
    return counter.get().compose(stored -> {
      long now = clockMicros.getAsLong();
      long tat = Math.max(stored, now);
      if (tat + interval - now > MINUTE_US) {
        return Future.succeededFuture(new long[] {0, tat});
      }
      return counter.compareAndSet(stored, tat + interval).compose(swapped -> swapped || tries <= 1
          ? Future.succeededFuture(new long[] {1, tat + interval})
          : takeRequest(counter, interval, tries - 1));
    });
  }

  private Future<Long> push(Counter counter, long cost, int tries) {
    return counter.get().compose(stored -> {
      long next = Math.max(stored, clockMicros.getAsLong()) + cost;
      return counter.compareAndSet(stored, next).compose(swapped -> swapped || tries <= 1
          ? Future.succeededFuture(next) : push(counter, cost, tries - 1));
    });
  }

  private Future<Counter> counter(ApiKey key, String kind) {
    String name = "switchboard.ratelimit." + key.name() + "." + kind;
    Future<Counter> counter = counters.computeIfAbsent(name, n -> vertx.sharedData().getCounter(n));
    if (counter.failed()) {
      counters.remove(name, counter);
    }
    return counter;
  }

  private void warn(ApiKey key, String action, Throwable failure) {
    if (warnings.due(System.currentTimeMillis()) >= 0) {
      log.warn("rate-limit counters unreachable: letting requests through unlimited", kv("key", key.name()),
          kv("action", action), kv("component", "gateway"), kv("reason", String.valueOf(failure.getMessage())));
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
