package io.switchboard.gateway.dialect.openai;

import io.switchboard.gateway.api.CompletionRequest;
import io.switchboard.gateway.api.RequestValidator;
import io.switchboard.gateway.exchange.AnswerWriter;
import io.switchboard.gateway.exchange.Dialect;
import io.switchboard.gateway.http.ApiError;
import io.switchboard.gateway.http.ErrorResponder;
import io.switchboard.protocol.Usage;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** OpenAI's {@code POST /v1/embeddings}: travels like a generation and comes back whole, in OpenAI's list shape. */
public final class EmbeddingsDialect implements Dialect {

  private final RequestValidator validator;

  public EmbeddingsDialect(RequestValidator validator) {
    this.validator = validator;
  }

  @Override
  public String endpoint() {
    return "embeddings";
  }

  @Override
  public Future<Call> read(RoutingContext ctx) {
    CompletionRequest request;
    try {
      request = validator.validateEmbedding(ctx.body().buffer());
    } catch (ApiError invalid) {
      return Future.failedFuture(invalid);
    }
    return Future.succeededFuture(Call.of(request,
        requestId -> new EmbeddingsWriter(ctx, new OpenAiFormat(request, requestId))));
  }

  /** The backend's {@code data} list under the client's model name, with the gateway's usage. */
  private static final class EmbeddingsWriter implements AnswerWriter {

    private final RoutingContext ctx;
    private final OpenAiFormat format;

    EmbeddingsWriter(RoutingContext ctx, OpenAiFormat format) {
      this.ctx = ctx;
      this.format = format;
    }

    @Override
    public void delta(String text, JsonObject extra) {
    }

    @Override
    public void servedBy(String model) {
      format.servedBy(model);
    }

    @Override
    public Future<Void> complete(String finishReason, Usage usage, JsonObject wholeAnswer) {
      JsonObject result = wholeAnswer == null ? null : wholeAnswer.getJsonObject("result");
      if (result == null) {
        throw new ApiError(502, "upstream_error", "worker_failed", null,
            "The worker ended the embeddings request without an answer");
      }
      return ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
          .end(format.embeddingResponse(result, usage).toBuffer());
    }

    @Override
    public Future<Void> failed(ApiError error) {
      return ErrorResponder.send(ctx, error);
    }

    @Override
    public boolean started() {
      return false;
    }
  }
}
