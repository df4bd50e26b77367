package io.switchboard.protocol;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;

/**
 * A typed failure of a generation, as a worker reports it. {@code retryable} tells the gateway whether another
 * worker may succeed where this one failed (a busy or dying worker: yes; a prompt too long for the model: no).
 * {@code param} names the request field at fault when there is one (a field the worker's backend kind refuses),
 * so the client's error says which; null otherwise.
 */
public record GenerateError(Code code, String message, boolean retryable, String workerId, String param) {

  /** Failure codes of the contract. The numeric value is what travels in a {@link ReplyException}. */
  public enum Code {
    /** The worker does not serve the requested model. */
    MODEL_NOT_SERVED(1, false),
    /** The worker cannot take more work now (slots and queue full, or draining). */
    WORKER_BUSY(2, true),
    /** The request is invalid for this engine (too long for its context, unsupported field). */
    INVALID_REQUEST(3, false),
    /** The engine or its backend failed while generating. */
    ENGINE_FAILED(4, true),
    /** The request's deadline passed. */
    DEADLINE_EXCEEDED(5, false),
    /** The worker is shutting down and will not finish this request. */
    WORKER_STOPPING(6, true),
    /** The generation was cancelled by the gateway. */
    CANCELLED(7, false),
    /**
     * The request, or an answer to it, is larger than the request plane carries (grpc.maxMessageBytes): the
     * client's to fix, the same on every worker.
     */
    TOO_LARGE(8, false);

    private final int wireCode;
    private final boolean retryableByDefault;

    Code(int wireCode, boolean retryableByDefault) {
      this.wireCode = wireCode;
      this.retryableByDefault = retryableByDefault;
    }

    public int wireCode() {
      return wireCode;
    }

    public boolean retryableByDefault() {
      return retryableByDefault;
    }

    public static Code fromWire(int wireCode) {
      for (Code code : values()) {
        if (code.wireCode == wireCode) {
          return code;
        }
      }
      return ENGINE_FAILED;
    }
  }

  public GenerateError(Code code, String message, boolean retryable, String workerId) {
    this(code, message, retryable, workerId, null);
  }

  public static GenerateError of(Code code, String message, String workerId) {
    return new GenerateError(code, message, code.retryableByDefault(), workerId);
  }

  /** The request's field {@code param} may not be used as given: the same on every worker, never retried. */
  public static GenerateError invalidField(String param, String message, String workerId) {
    return new GenerateError(Code.INVALID_REQUEST, message, false, workerId, param);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("code", code.name())
        .put("message", message)
        .put("retryable", retryable)
        .put("workerId", workerId);
    return param == null ? json : json.put("param", param);
  }

  public static GenerateError fromJson(JsonObject json) {
    Code code;
    try {
      code = Code.valueOf(json.getString("code", Code.ENGINE_FAILED.name()));
    } catch (IllegalArgumentException unknown) {
      code = Code.ENGINE_FAILED;
    }
    return new GenerateError(code, json.getString("message", ""), json.getBoolean("retryable", false),
        json.getString("workerId"), json.getString("param"));
  }

  /** The reply failure a worker sends when it refuses a generate request. */
  public ReplyException toReplyException() {
    return new ReplyException(ReplyFailure.RECIPIENT_FAILURE, code.wireCode(), toJson().encode());
  }

  /** Reads a worker's refusal back; null when the exception did not come from a worker (timeout, no handler). */
  public static GenerateError fromReplyException(ReplyException failure) {
    if (failure.failureType() != ReplyFailure.RECIPIENT_FAILURE) {
      return null;
    }
    try {
      return fromJson(new JsonObject(failure.getMessage()));
    } catch (RuntimeException notOurs) {
      return new GenerateError(Code.fromWire(failure.failureCode()), failure.getMessage(), false, null);
    }
  }
}
