package io.switchboard.worker.openai;

import io.switchboard.protocol.GenerateError;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * Turns a backend's HTTP error into the typed failure the gateway maps for the client, naming the backend and
 * keeping its own words: a rejected request is the client's to fix (not retried), an overloaded backend is
 * retried on another worker, a backend that does not know the model sends the request elsewhere.
 */
public final class BackendErrors {

  private static final int EXCERPT = 300;

  private BackendErrors() {
  }

  public static GenerateError fromStatus(int status, Buffer body, String backendName, String workerId) {
    String said = backendName + " answered HTTP " + status + ": " + excerpt(body);
    return switch (status) {
      case 400, 413, 422 -> GenerateError.of(GenerateError.Code.INVALID_REQUEST, said, workerId);
      case 401, 403 -> new GenerateError(GenerateError.Code.ENGINE_FAILED, said + " (the worker's API key for "
          + "this backend is missing or wrong: set workers[N].openai.apiKey)", false, workerId);
      case 404 -> new GenerateError(GenerateError.Code.MODEL_NOT_SERVED, said
          + " (the backend does not serve this model any more; another worker may)", true, workerId);
      case 429, 503 -> GenerateError.of(GenerateError.Code.WORKER_BUSY, said, workerId);
      default -> GenerateError.of(GenerateError.Code.ENGINE_FAILED, said, workerId);
    };
  }

  /** The backend's own error message when it sent OpenAI's error shape, else the start of its body. */
  public static String excerpt(Buffer body) {
    if (body == null || body.length() == 0) {
      return "(no body)";
    }
    try {
      JsonObject json = new JsonObject(body);
      Object error = json.getValue("error");
      if (error instanceof JsonObject object) {
        return object.getString("message", object.encode());
      }
      if (error instanceof String text) {
        return text;
      }
      Object detail = json.getValue("detail");
      return detail != null ? String.valueOf(detail) : shorten(json.encode());
    } catch (RuntimeException notJson) {
      return shorten(body.toString().strip());
    }
  }

  private static String shorten(String text) {
    return text.length() > EXCERPT ? text.substring(0, EXCERPT) + "..." : text;
  }
}
