package io.switchboard.gateway.exchange;

import io.switchboard.gateway.http.ApiError;
import io.switchboard.protocol.GenerateError;

/** Turns a worker's typed failure into the error the client gets, naming the worker and the request. */
final class WorkerFailures {

  private WorkerFailures() {
  }

  static ApiError toApiError(GenerateError error, String requestId) {
    String where = error.workerId() == null ? " (request " + requestId + ")"
        : " (worker " + error.workerId() + ", request " + requestId + ")";
    return switch (error.code()) {
      case INVALID_REQUEST -> new ApiError(400, "invalid_request_error", "invalid_request_for_model", error.param(),
          error.message() + where);
      case TOO_LARGE -> new ApiError(413, "invalid_request_error", "request_too_large", null,
          error.message() + where + ".");
      case DEADLINE_EXCEEDED -> new ApiError(504, "timeout_error", "timeout", null,
          "The request timed out: " + error.message() + where + ". Retry, or raise the total limit, "
              + "gateway.requestTimeoutMs.");
      case WORKER_BUSY -> new ApiError(503, "service_unavailable_error", "workers_busy", null,
          error.message() + where + ". Retry shortly or add workers.");
      case WORKER_STOPPING -> new ApiError(503, "service_unavailable_error",
          "worker_unavailable", null, error.message() + where + ". Retry; another worker may take it.");
      // The worker's own words list the models it does serve, which a key limited to some models may not see;
      // the gateway's log keeps them (workerReason in its "request failed" line).
      case MODEL_NOT_SERVED -> new ApiError(503, "service_unavailable_error", "worker_unavailable", null,
          "The worker no longer serves the requested model" + where + ". Retry; another worker may take it.");
      case CANCELLED -> new ApiError(499, "invalid_request_error", "cancelled", null,
          "The request was cancelled" + where + ".");
      case ENGINE_FAILED -> new ApiError(502, "upstream_error", "worker_failed", null,
          "The worker failed while generating: " + error.message() + where + ".");
    };
  }
}
