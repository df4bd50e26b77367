package io.switchboard.gateway;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.gateway.cluster.ClusterView;
import io.switchboard.gateway.config.GatewayOptions;
import io.switchboard.worker.WorkerOptions;
import io.switchboard.worker.WorkerVerticle;
import io.switchboard.worker.mocker.MockerOptions;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.switchboard.gateway.TestFutures.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A finished request leaves nothing behind in the gateway: no timeout still armed for it (a timeout holds its
 * request, and everything the request holds, until it fires). The worker runs on the gateway's node, so a whole
 * answer can arrive while the gateway is still setting the stream up.
 */
class FinishedRequestsTest {

  private static Vertx vertx;
  private static GatewayVerticle gateway;
  private static int port;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    await(vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("instant-1").setModel("mock-llm")
        .setMocker(new MockerOptions().setPrefillTokensPerSecond(0).setDecodeTokensPerSecond(0)), "node-1")));
    gateway = new GatewayVerticle(new GatewayOptions().setHttpPort(0), ClusterView.standalone("node-1"),
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    await(vertx.deployVerticle(gateway));
    port = gateway.actualPort();
    long until = System.currentTimeMillis() + 10_000;
    while (!RawHttp.get(port, "/admin/cluster", "").body().contains("\"status\":\"routable\"")) {
      assertThat(System.currentTimeMillis()).as("the worker is routable").isLessThan(until);
      Thread.sleep(50);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (vertx != null) {
      await(vertx.close());
    }
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
    long until = System.currentTimeMillis() + 2_000;
    while (pending() > 0 && System.currentTimeMillis() < until) {
      Thread.sleep(20);
    }
    assertThat(pending()).as("timeouts still armed after 100 finished requests").isZero();
  }

  private static int pending() throws Exception {
    return await(gateway.pendingDeadlines());
  }
}
