package io.switchboard.gateway.security;

import io.switchboard.gateway.http.ApiError;
import io.switchboard.runtime.time.DeadlineSweep;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Keeps clients from holding a gateway's connections: at most {@code gateway.limits.maxConnections} open at
 * once on the node, counted across its gateway instances by one {@link OpenConnections} (more are closed as they
 * arrive), and every connection must deliver a whole request within
 * {@code gateway.limits.requestReadTimeoutMs} of opening, of its previous response ending, or of the request's
 * head arriving, else it is closed (a slow body first gets 408). A slowloris client, trickling one header byte
 * at a time, therefore holds a connection for one timeout at most. One guard per gateway instance, confined to its
 * event loop.
 */
public final class ConnectionGuard {

  private static final Logger log = LoggerFactory.getLogger(ConnectionGuard.class);

  private final DeadlineSweep deadlines;
  private final LimitOptions limits;
  private final Map<HttpConnection, Watch> watched = new HashMap<>();
  private final OpenConnections open;
  private final LogThrottle warnings = new LogThrottle(5000);

  private final java.util.function.Consumer<String> refusedBecause;

  /**
   * @param deadlines      where the read timeouts are kept (the gateway's, on its event loop)
   * @param refusedBecause told the reason of every connection closed by a limit (for the metrics)
   */
  public ConnectionGuard(DeadlineSweep deadlines, LimitOptions limits,
                         java.util.function.Consumer<String> refusedBecause) {
    this(deadlines, limits, new OpenConnections(limits.getMaxConnections()), refusedBecause);
  }

  /** @param open the node's count of open connections, shared by its gateway instances */
  public ConnectionGuard(DeadlineSweep deadlines, LimitOptions limits, OpenConnections open,
                         java.util.function.Consumer<String> refusedBecause) {
    this.open = open;
    this.deadlines = deadlines;
    this.limits = limits;
    this.refusedBecause = refusedBecause;
  }

  /** Where one connection stands: the request being read or served, and the deadline that checks on it. */
  private final class Watch {
    final HttpConnection connection;
    HttpServerRequest current;
    DeadlineSweep.Deadline deadline;

    Watch(HttpConnection connection) {
      this.connection = connection;
    }

    void arm() {
      if (deadline != null) {
        deadline.postpone(limits.getRequestReadTimeoutMs());
      } else {
        deadline = deadlines.watch(limits.getRequestReadTimeoutMs(), this::check);
      }
    }

    void disarm() {
      if (deadline != null) {
        deadline.cancel();
        deadline = null;
      }
    }

    void check() {
      deadline = null;
      if (current == null) {
        // No request head arrived in time: idle, or a client trickling its headers.
        open.timedOut();
        refusedBecause.accept("read_timeout");
        connection.close();
        return;
      }
      if (!current.isEnded()) {
        open.timedOut();
        refusedBecause.accept("read_timeout");
        warn("a client did not send its request body in time; closing its connection", current);
        if (!current.response().headWritten()) {
          current.response().setStatusCode(408).putHeader("content-type", "application/json")
              .putHeader("connection", "close")
              .end(new ApiError(408, "invalid_request_error", "request_timeout", null,
                  "The request body did not arrive within " + limits.getRequestReadTimeoutMs() + " ms "
                      + "(gateway.limits.requestReadTimeoutMs). Send the whole request at once.").toJson().toBuffer())
              .onComplete(done -> connection.close());
        } else {
          connection.close();
        }
        return;
      }
      if (current.response().ended()) {
        current = null;
      }
      // Served or being served: look again later (a finished one then counts as idle).
      arm();
    }
  }

  /** For {@code HttpServer.connectionHandler}. */
  public void connected(HttpConnection connection) {
    if (!open.tryOpen()) {
      refusedBecause.accept("connection_cap");
      warn("connection refused: this node's gateway already holds gateway.limits.maxConnections ("
          + limits.getMaxConnections() + ") connections", null);
      connection.close();
      return;
    }
    Watch watch = new Watch(connection);
    watched.put(connection, watch);
    connection.closeHandler(v -> {
      open.closed();
      Watch gone = watched.remove(connection);
      if (gone != null) {
        gone.disarm();
      }
    });
    watch.arm();
  }

  /** Wraps the request handler: a request head arrived, so its body gets a fresh timeout. */
  public Handler<HttpServerRequest> watching(Handler<HttpServerRequest> next) {
    return request -> {
      Watch watch = watched.get(request.connection());
      if (watch != null) {
        watch.current = request;
        watch.arm();
      }
      next.handle(request);
    };
  }

  public int openConnections() {
    return open.open();
  }

  public long refusedConnections() {
    return open.refused();
  }

  public long timedOutConnections() {
    return open.timedOutCount();
  }

  private void warn(String message, HttpServerRequest request) {
    if (warnings.due(System.currentTimeMillis()) >= 0) {
      log.warn(message, kv("component", "gateway"), kv("openConnections", open.open()),
          kv("refusedConnections", open.refused()), kv("timedOutConnections", open.timedOutCount()),
          kv("remote", request == null ? null : String.valueOf(request.remoteAddress())));
    }
  }
}
