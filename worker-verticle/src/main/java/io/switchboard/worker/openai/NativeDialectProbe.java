package io.switchboard.worker.openai;

import io.switchboard.protocol.NativeForm;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;

import java.util.ArrayList;
import java.util.List;

/**
 * Asks a backend which dialects besides chat it serves natively: POSTs {@code {}} to {@code /v1/responses} and
 * {@code /v1/messages}. 404 or 405 means the path is not served; any other answer means it is (the empty body is
 * refused: llama-server answers 400 on /v1/responses and 500 "'messages' is required" on /v1/messages, vLLM 400 or
 * 422); 401/403, 502-504 and failures to connect leave the answer unknown (the probe fails, and is made again when the
 * backend next comes up). An empty body generates nothing.
 */
final class NativeDialectProbe {

  private NativeDialectProbe() {
  }

  static Future<List<String>> probe(HttpClient client, BackendEndpoint endpoint, long timeoutMs) {
    List<Future<Boolean>> answers = NativeForm.DIALECTS.stream().map(dialect -> serves(client, endpoint,
        NativeForm.path(dialect), timeoutMs)).toList();
    return Future.all(answers).map(all -> {
      List<String> served = new ArrayList<>();
      for (int i = 0; i < answers.size(); i++) {
        if (answers.get(i).result()) {
          served.add(NativeForm.DIALECTS.get(i));
        }
      }
      return List.copyOf(served);
    });
  }

  private static Future<Boolean> serves(HttpClient client, BackendEndpoint endpoint, String path, long timeoutMs) {
    return client.request(endpoint.request(HttpMethod.POST, path).setTimeout(timeoutMs)
            .putHeader(HttpHeaders.CONTENT_TYPE, "application/json"))
        .compose(req -> req.send("{}"))
        .compose(resp -> resp.body().compose(body -> {
          int status = resp.statusCode();
          if (status == 404 || status == 405) {
            return Future.succeededFuture(false);
          }
          if (status == 401 || status == 403 || status == 502 || status == 503 || status == 504) {
            return Future.failedFuture("POST " + path + " answered HTTP " + status
                + (status < 500 ? " (check openai.apiKey)" : " (the backend is not ready)"));
          }
          return Future.succeededFuture(true);
        }));
  }
}
