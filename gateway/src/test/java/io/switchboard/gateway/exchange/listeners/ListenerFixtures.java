package io.switchboard.gateway.exchange.listeners;

import io.switchboard.gateway.api.CompletionRequest;
import io.switchboard.gateway.exchange.ExchangeFacts;
import io.switchboard.gateway.security.ApiKey;
import io.switchboard.gateway.tracing.RequestSpans;
import io.switchboard.protocol.RequestKind;
import io.vertx.core.json.JsonObject;

/** Exchanges as listeners see them, for the listeners' tests. */
final class ListenerFixtures {

  /** A client's trace, continued by the gateway: its trace id is {@link #TRACE_ID}. */
  static final String TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";

  private ListenerFixtures() {
  }

  static ExchangeFacts facts(String endpoint, String model, boolean stream, ApiKey key) {
    return facts(endpoint, model, stream, key, RequestSpans.propagateOnly());
  }

  static ExchangeFacts facts(String endpoint, String model, boolean stream, ApiKey key, RequestSpans spans) {
    return new ExchangeFacts("req-1", endpoint,
        new CompletionRequest(RequestKind.CHAT, model, new JsonObject(), "hello", null, stream, false), model, key,
        spans.start(endpoint + " " + model, TRACEPARENT, null));
  }
}
