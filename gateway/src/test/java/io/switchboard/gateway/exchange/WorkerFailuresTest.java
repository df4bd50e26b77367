package io.switchboard.gateway.exchange;

import io.switchboard.gateway.http.ApiError;
import io.switchboard.protocol.GenerateError;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class WorkerFailuresTest {

  @Test
  void aWorkerThatDoesNotServeTheModelIsNotQuotedToTheClient() {
    ApiError error = WorkerFailures.toApiError(GenerateError.of(GenerateError.Code.MODEL_NOT_SERVED,
        "worker w-1 serves models [secret-llm, internal-llm], not 'public-llm'", "w-1"), "req-1");
    assertThat(error.status()).isEqualTo(503);
    assertThat(error.code()).isEqualTo("worker_unavailable");
    assertThat(error.getMessage()).contains("w-1", "req-1").doesNotContain("secret-llm", "internal-llm");
  }
}
