package io.switchboard.gateway;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.gateway.cluster.ClusterView;
import io.switchboard.gateway.config.GatewayOptions;
import io.switchboard.testsupport.Eventually;
import io.switchboard.worker.WorkerOptions;
import io.switchboard.worker.WorkerVerticle;
import io.switchboard.worker.mocker.MockerOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

import static java.time.Duration.ofSeconds;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * An API key restricted to some models learns no other model's name: not from a 404, not from the embeddings
 * 404, not from /health (which needs no key). A key for every model still sees them all.
 */
@ExtendWith(VertxExtension.class)
class ModelDisclosureTest {

  private static final String LIMITED = "sk-limited-key-0001";
  private static final String FULL = "sk-full-key-0002";
  private static int port;

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    for (String model : List.of("public-llm", "secret-llm")) {
      vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId(model + "-w").setModel(model)
          .setMocker(new MockerOptions().setPrefillTokensPerSecond(0).setDecodeTokensPerSecond(0)), "node-w"))
          .await(30, SECONDS);
    }
    GatewayVerticle gateway = new GatewayVerticle(new GatewayOptions().setHttpPort(0).setRegistryResyncMs(300)
        .setApiKeys(List.of(LIMITED + ";name=limited;models=public-llm|planned-llm", FULL + ";name=full")),
        ClusterView.standalone("node-g"), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    vertx.deployVerticle(gateway).await(30, SECONDS);
    port = gateway.actualPort();
    Eventually.within(ofSeconds(10), "the workers become routable",
        () -> chat(FULL, "public-llm").status() == 200 && chat(FULL, "secret-llm").status() == 200);
  }

  @Test
  void aModelNotFoundListsOnlyTheModelsTheKeyMayUse() throws Exception {
    RawHttp.Response limited = chat(LIMITED, "planned-llm");
    assertThat(limited.status()).isEqualTo(404);
    assertThat(limited.error().getString("code")).isEqualTo("model_not_found");
    assertThat(limited.error().getString("message")).contains("public-llm").doesNotContain("secret-llm");

    RawHttp.Response full = chat(FULL, "planned-llm");
    assertThat(full.error().getString("message")).as("an unrestricted key").contains("public-llm", "secret-llm");
  }

  @Test
  void anEmbeddingsModelNotFoundListsOnlyTheModelsTheKeyMayUse() throws Exception {
    RawHttp.Response limited = RawHttp.post(port, "/v1/embeddings",
        "{\"model\":\"planned-llm\",\"input\":\"hi\"}", "Authorization: Bearer " + LIMITED + "\r\n");
    assertThat(limited.status()).isEqualTo(404);
    assertThat(limited.error().getString("message")).contains("public-llm").doesNotContain("secret-llm");
  }

  @Test
  void healthNeedsNoKeySoItNamesNoModel() throws Exception {
    RawHttp.Response health = RawHttp.get(port, "/health", "");
    assertThat(health.status()).isEqualTo(200);
    assertThat(health.body()).doesNotContain("public-llm").doesNotContain("secret-llm");
    JsonObject body = health.json();
    assertThat(body.getString("status")).isEqualTo("ok");
    assertThat(body.getJsonObject("workers").getInteger("routable")).isEqualTo(2);
  }

  private static RawHttp.Response chat(String key, String model) throws Exception {
    return RawHttp.post(port, "/v1/chat/completions", "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\","
        + "\"content\":\"hi\"}],\"max_tokens\":1}", "Authorization: Bearer " + key + "\r\n");
  }
}
