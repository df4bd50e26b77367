package io.switchboard.gateway.exchange;

import io.switchboard.gateway.api.CompletionRequest;
import io.switchboard.gateway.http.ApiError;
import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;

/**
 * One API's front end: reads its wire format into the dialect-neutral request the exchange runs (a chat, completion
 * or embeddings call a worker understands) and writes the answer back in its wire format. Adding a dialect touches
 * neither the exchange nor the router nor the planes.
 */
public interface Dialect {

  /** The endpoint's name in metrics, logs and spans: {@code chat_completions}, {@code responses}, ... */
  String endpoint();

  /**
   * Reads and checks the request's body.
   *
   * @return the call to run, or a failed future with a 4xx {@link ApiError} that names the field and the fix
   */
  Future<Call> read(RoutingContext ctx);

  /** One request read by a dialect: what the exchange runs, and how its answer is written back. */
  interface Call {

    CompletionRequest request();

    /** The writer of this call's answer (made once the request has its id). */
    AnswerWriter writer(String requestId);

    /** A call of {@code request} whose answer {@code writers} writes, given the request's id. */
    static Call of(CompletionRequest request, java.util.function.Function<String, AnswerWriter> writers) {
      return new Call() {
        @Override
        public CompletionRequest request() {
          return request;
        }

        @Override
        public AnswerWriter writer(String requestId) {
          return writers.apply(requestId);
        }
      };
    }
  }
}
