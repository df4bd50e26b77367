package io.switchboard.gateway.http;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;

/**
 * How an API's errors look on the wire. OpenAI's shape is the default; a route of another dialect installs its own
 * first, so every error on it (a bad key, a rate limit, a body over the limit, a worker's failure) comes in the shape
 * its clients parse.
 */
public interface ErrorShape {

  /** Routing-context key of the shape installed for a request. */
  String CONTEXT_KEY = "switchboard.errorShape";

  /** OpenAI's {@code {"error":{"message","type","param","code"}}}. */
  ErrorShape OPENAI = error -> error.toJson().toBuffer();

  Buffer body(ApiError error);

  /** The shape installed on {@code ctx}, or OpenAI's. */
  static ErrorShape of(RoutingContext ctx) {
    ErrorShape shape = ctx.get(CONTEXT_KEY);
    return shape == null ? OPENAI : shape;
  }

  /** A route handler that installs this shape for the requests it sees. */
  default Handler<RoutingContext> installer() {
    return ctx -> {
      ctx.put(CONTEXT_KEY, this);
      ctx.next();
    };
  }
}
