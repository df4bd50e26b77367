package io.switchboard.gateway.exchange;

import io.switchboard.gateway.api.CompletionRequest;
import io.switchboard.gateway.security.ApiKey;
import io.switchboard.gateway.tracing.RequestSpans;

/**
 * What holds of one exchange from its start to its end, as its listeners are told: made once per request.
 *
 * @param endpoint   the dialect's endpoint name ({@code chat_completions}, {@code responses}, ...), for metrics, logs
 *                   and spans
 * @param request    the dialect-neutral request; its model is the client's string (metrics bound it in their tags)
 * @param shownModel the model as logs and spans name it: the client's string, cut short if long
 * @param apiKey     the key the request was made with; null when the route has no key check
 * @param span       the request's span: started by the exchange (its context goes to workers), ended by a listener
 */
public record ExchangeFacts(String requestId, String endpoint, CompletionRequest request, String shownModel,
                            ApiKey apiKey, RequestSpans.RequestSpan span) {

  /** The model as the client named it. */
  public String model() {
    return request.model();
  }

  /** Whether the client asked for a stream. */
  public boolean stream() {
    return request.stream();
  }

  /** The request's trace id (the client's trace, or a new one); worked out on each call, for the few who log it. */
  public String traceId() {
    return span.downstream().traceId();
  }
}
