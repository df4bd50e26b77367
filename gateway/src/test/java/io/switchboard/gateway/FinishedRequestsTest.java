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
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static java.time.Duration.ofSeconds;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A finished request leaves nothing behind in the gateway: no timeout still armed for it (a timeout holds its
 * request, and everything the request holds, until it fires). The worker runs on the gateway's node, so a whole
 * answer can arrive while the gateway is still setting the stream up.
 */
@ExtendWith(VertxExtension.class)
class FinishedRequestsTest {

  private static GatewayVerticle gateway;
  private static int port;

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("instant-1").setModel("mock-llm")
        .setMocker(new MockerOptions().setPrefillTokensPerSecond(0).setDecodeTokensPerSecond(0)), "node-1"))
        .await(30, SECONDS);
    gateway = new GatewayVerticle(new GatewayOptions().setHttpPort(0), ClusterView.standalone("node-1"),
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    vertx.deployVerticle(gateway).await(30, SECONDS);
    port = gateway.actualPort();
    Eventually.within(ofSeconds(10), "the worker is routable",
        () -> RawHttp.get(port, "/admin/cluster", "").body().contains("\"status\":\"routable\""));
  }

  @Test
  void finishedRequestsLeaveNoTimeoutArmed() throws Exception {
    for (int i = 0; i < 50; i++) {
      for (boolean stream : new boolean[] {false, true}) {
        RawHttp.Response response = RawHttp.post(port, "/v1/chat/completions", "{\"model\":\"mock-llm\",\"stream\":"
            + stream + ",\"max_tokens\":3,\"messages\":[{\"role\":\"user\",\"content\":\"hello " + i + "\"}]}", "");
        assertThat(response.status()).as(response.body()).isEqualTo(200);
      }
    }
    // Each connection's read timeout ends when it closes; nothing else may stay armed.
    Eventually.within(ofSeconds(2), "no timeout is still armed after 100 finished requests", () -> pending() == 0);
  }

  private static int pending() throws Exception {
    return gateway.pendingDeadlines().await(30, SECONDS);
  }
}
