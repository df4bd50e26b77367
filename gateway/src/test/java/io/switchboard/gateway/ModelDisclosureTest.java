package io.switchboard.gateway;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.gateway.cluster.ClusterView;
import io.switchboard.gateway.config.GatewayOptions;
import io.switchboard.worker.WorkerOptions;
import io.switchboard.worker.WorkerVerticle;
import io.switchboard.worker.mocker.MockerOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.switchboard.gateway.TestFutures.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * An API key restricted to some models learns no other model's name: not from a 404, not from the embeddings
 * 404, not from /health (which needs no key). A key for every model still sees them all.
 */
class ModelDisclosureTest {

  private static final String LIMITED = "sk-limited-key-0001";
  private static final String FULL = "sk-full-key-0002";
  private static Vertx vertx;
  private static int port;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    for (String model : List.of("public-llm", "secret-llm")) {
      await(vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId(model + "-w").setModel(model)
          .setMocker(new MockerOptions().setPrefillTokensPerSecond(0).setDecodeTokensPerSecond(0)), "node-w")));
    }
    GatewayVerticle gateway = new GatewayVerticle(new GatewayOptions().setHttpPort(0).setRegistryResyncMs(300)
        .setApiKeys(List.of(LIMITED + ";name=limited;models=public-llm|planned-llm", FULL + ";name=full")),
        ClusterView.standalone("node-g"), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    await(vertx.deployVerticle(gateway));
    port = gateway.actualPort();
    long until = System.currentTimeMillis() + 10_000;
    while (chat(FULL, "public-llm").status() != 200 || chat(FULL, "secret-llm").status() != 200) {
      assertThat(System.currentTimeMillis()).as("the workers become routable").isLessThan(until);
      Thread.sleep(100);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (vertx != null) {
      await(vertx.close());
    }
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
