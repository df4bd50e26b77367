package io.switchboard.gateway.security;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.switchboard.gateway.http.ApiError;
import io.switchboard.gateway.http.ClientText;
import io.switchboard.gateway.http.ErrorResponder;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Consumer;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Bounds what the requests in progress hold, at the request's head, before its body is read: a key at its cap of
 * concurrent requests gets 429 {@code concurrency_limit_exceeded}; a request whose body would take the gateway
 * past {@code gateway.limits.maxInFlightBodyBytes} gets 503 {@code gateway_memory_budget}. The body's size is its
 * Content-Length (a chunked body reserves the largest size accepted). What a request takes is given back exactly
 * once, when it ends in any way: answered, failed, refused later, or its client gone. Goes after the API key check
 * and before the body handler. Confined to the gateway's event loop.
 */
public final class RequestBounds implements Handler<RoutingContext> {

  private static final Logger log = LoggerFactory.getLogger(RequestBounds.class);

  private final BodyBudget budget;
  private final KeyConcurrency concurrency;
  private final long maxBodyBytes;
  private final Consumer<String> refused;
  private final LogThrottle warnings = new LogThrottle(5000);

  /**
   * @param budget       bytes of bodies held at once
   * @param maxBodyBytes gateway.maxBodyBytes: what a chunked body reserves
   * @param refused      told the reason of every refusal (for the metrics)
   */
  public RequestBounds(BodyBudget budget, KeyConcurrency concurrency, long maxBodyBytes, Consumer<String> refused,
                       MeterRegistry metrics) {
    this.budget = budget;
    this.concurrency = concurrency;
    this.maxBodyBytes = maxBodyBytes;
    this.refused = refused;
    Gauge.builder("switchboard.body.bytes.in.flight", budget::held)
        .description("Bytes of request bodies the gateway holds now (gateway.limits.maxInFlightBodyBytes bounds it)")
        .register(metrics);
  }

  /** What one request took; given back once. */
  private final class Hold {
    private final String countedAs;
    private final long bytes;
    private boolean released;

    Hold(String countedAs, long bytes) {
      this.countedAs = countedAs;
      this.bytes = bytes;
    }

    void release() {
      if (!released) {
        released = true;
        concurrency.release(countedAs);
        budget.release(bytes);
      }
    }
  }

  @Override
  public void handle(RoutingContext ctx) {
    ApiKey key = ApiKeyAuth.of(ctx);
    String countedAs = concurrency.tryAcquire(key);
    if (countedAs == null) {
      refused.accept("concurrency_limit");
      warn("request refused: its API key is at its cap of concurrent requests", key, ctx.request());
      ctx.response().putHeader("retry-after", "1");
      ErrorResponder.send(ctx, new ApiError(429, "requests", "concurrency_limit_exceeded", null,
          "API key '" + key.name() + "' already has " + key.concurrentRequests() + " requests in progress on this "
              + "gateway, its limit of concurrent requests (concurrency=" + key.concurrentRequests() + " on the key, "
              + "or gateway.rateLimits.concurrentRequests; counted per gateway node). Wait for one to finish, or ask "
              + "the gateway's operator for a higher concurrency= on this key."));
      return;
    }
    long bytes = bodyBytes(ctx.request());
    if (!budget.tryReserve(bytes)) {
      concurrency.release(countedAs);
      refused.accept("memory_budget");
      warn("request refused: the request bodies held by this gateway would pass gateway.limits.maxInFlightBodyBytes",
          key, ctx.request());
      ctx.response().putHeader("retry-after", "1");
      ErrorResponder.send(ctx, new ApiError(503, "service_unavailable_error", "gateway_memory_budget", null,
          "This gateway already holds " + budget.held() + " bytes of request bodies in progress, and this request's "
              + bytes + " would pass its budget of " + budget.limit() + " (gateway.limits.maxInFlightBodyBytes). "
              + "Retry shortly, or use another gateway."));
      return;
    }
    Hold hold = new Hold(countedAs, bytes);
    // Called once when the response ends or the connection closes first. It rests on the response's end handler:
    // code after this must use ctx.addEndHandler, never response.endHandler or response.exceptionHandler.
    ctx.addEndHandler(ended -> hold.release());
    ctx.next();
  }

  /**
   * What the body will hold: its Content-Length, the largest accepted for a chunked one, 0 for none, and 0 for one
   * over gateway.maxBodyBytes (the body handler answers 413 without reading it).
   */
  private long bodyBytes(HttpServerRequest request) {
    String length = request.getHeader("content-length");
    if (length != null) {
      try {
        long announced = Long.parseLong(length.strip());
        return announced > maxBodyBytes ? 0 : Math.max(0, announced);
      } catch (NumberFormatException malformed) {
        return maxBodyBytes;
      }
    }
    return request.getHeader("transfer-encoding") != null ? maxBodyBytes : 0;
  }

  /** Where the bounds stand, for /admin/cluster. */
  public JsonObject status() {
    return new JsonObject()
        .put("bodyBytesInFlight", budget.held())
        .put("maxInFlightBodyBytes", budget.limit())
        .put("refusedForMemory", budget.refused())
        .put("concurrentRequestsByKey", concurrency.snapshot())
        .put("refusedForConcurrency", concurrency.refused());
  }

  private void warn(String message, ApiKey key, HttpServerRequest request) {
    long since = warnings.due(System.currentTimeMillis());
    if (since >= 0) {
      log.warn(message, kv("component", "gateway"), kv("key", key.name()), kv("path", ClientText.shown(request.path())),
          kv("remote", String.valueOf(request.remoteAddress())), kv("bodyBytesInFlight", budget.held()),
          kv("maxInFlightBodyBytes", budget.limit()), kv("refusedSinceLastLine", since));
    }
  }
}
