package io.switchboard.gateway;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.gateway.cluster.ClusterView;
import io.switchboard.gateway.config.GatewayOptions;
import io.switchboard.gateway.security.CorsOptions;
import io.switchboard.testsupport.Eventually;
import io.switchboard.worker.WorkerOptions;
import io.switchboard.worker.WorkerVerticle;
import io.switchboard.worker.mocker.MockerOptions;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static java.time.Duration.ofSeconds;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A web page of an origin the operator allowed ({@code gateway.cors.allowedOrigins}) calls the API from a
 * browser: its preflight is answered (before the API key check: a preflight carries no key), its requests get the
 * CORS headers that let it read the answer. Other origins still get 403, and the operator endpoints answer no
 * other origin at all. The gateway is also reached by a name the operator allowed ({@code gateway.allowedHosts}).
 */
@ExtendWith(VertxExtension.class)
class CorsTest {

  private static final String APP = "http://app.example:3000";
  private static final String KEY = "sk-cors-test-0001";
  private static final String ADMIN_KEY = "admin-key-cors";
  private static int port;

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("cors-w").setModel("cors-llm")
        .setMocker(new MockerOptions().setPrefillTokensPerSecond(0).setDecodeTokensPerSecond(0)), "node-w"))
        .await(30, SECONDS);
    GatewayVerticle gateway = new GatewayVerticle(new GatewayOptions().setHttpPort(0).setRegistryResyncMs(300)
        .setApiKeys(List.of(KEY)).setAdminKey(ADMIN_KEY).setAllowedHosts(List.of("gateway.example"))
        .setCors(new CorsOptions().setAllowedOrigins(List.of(APP))),
        ClusterView.standalone("node-g"), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    vertx.deployVerticle(gateway).await(30, SECONDS);
    port = gateway.actualPort();
    Eventually.within(ofSeconds(10), "the worker becomes routable",
        () -> request("POST", "/v1/chat/completions", "Authorization: Bearer " + KEY + "\r\n", chat()).status() == 200);
  }

  @Test
  void anAllowedOriginsPreflightIsAnsweredWithoutAKey() throws Exception {
    RawHttp.Response preflight = request("OPTIONS", "/v1/chat/completions", "Origin: " + APP + "\r\n"
        + "Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization,content-type,"
        + "x-stainless-os,x-stainless-lang\r\nSec-Fetch-Mode: cors\r\nSec-Fetch-Site: cross-site\r\n", "");
    assertThat(preflight.status()).isEqualTo(204);
    assertThat(preflight.headers().get("access-control-allow-origin")).isEqualTo(APP);
    assertThat(preflight.headers().get("access-control-allow-methods")).contains("POST");
    assertThat(preflight.headers().get("access-control-allow-headers"))
        .contains("authorization", "content-type", "x-stainless-os");
    assertThat(preflight.headers().get("access-control-max-age")).isEqualTo("600");
  }

  @Test
  void anAllowedOriginsRequestCanReadTheAnswer() throws Exception {
    RawHttp.Response response = request("POST", "/v1/chat/completions", "Origin: " + APP + "\r\n"
        + "Authorization: Bearer " + KEY + "\r\nContent-Type: application/json\r\nSec-Fetch-Mode: cors\r\n"
        + "Sec-Fetch-Site: cross-site\r\n", chat());
    assertThat(response.status()).as(response.body()).isEqualTo(200);
    assertThat(response.headers().get("access-control-allow-origin")).isEqualTo(APP);
    assertThat(response.headers().get("access-control-expose-headers")).contains("x-request-id");
    RawHttp.Response unauthenticated = request("POST", "/v1/chat/completions", "Origin: " + APP + "\r\n"
        + "Content-Type: application/json\r\n", chat());
    assertThat(unauthenticated.status()).as("the key is still needed").isEqualTo(401);
    assertThat(unauthenticated.headers().get("access-control-allow-origin")).as("and the page can read why")
        .isEqualTo(APP);
  }

  @Test
  void otherOriginsAndTheOperatorEndpointsStayClosed() throws Exception {
    RawHttp.Response other = request("POST", "/v1/chat/completions", "Origin: http://app.example:3001\r\n"
        + "Authorization: Bearer " + KEY + "\r\nContent-Type: application/json\r\n", chat());
    assertThat(other.status()).isEqualTo(403);
    assertThat(other.error().getString("code")).isEqualTo("origin_not_allowed");
    RawHttp.Response admin = request("GET", "/admin/cluster", "Origin: " + APP + "\r\n"
        + "Authorization: Bearer " + ADMIN_KEY + "\r\n", "");
    assertThat(admin.status()).isEqualTo(403);
    RawHttp.Response metrics = request("GET", "/metrics", "Origin: " + APP + "\r\nAuthorization: Bearer "
        + ADMIN_KEY + "\r\n", "");
    assertThat(metrics.status()).isEqualTo(403);
  }

  @Test
  void anAllowedHostNameIsAnsweredAndOthersAreNot() throws Exception {
    assertThat(exchange("GET", "/v1/models", "gateway.example:" + port, "Authorization: Bearer " + KEY + "\r\n", "")
        .status()).isEqualTo(200);
    assertThat(exchange("GET", "/v1/models", "127.0.0.1:" + port, "Authorization: Bearer " + KEY + "\r\n", "")
        .status()).isEqualTo(200);
    RawHttp.Response other = exchange("GET", "/v1/models", "other.example:" + port, "", "");
    assertThat(other.status()).isEqualTo(421);
  }

  private static RawHttp.Response request(String method, String path, String headers, String body) throws Exception {
    return exchange(method, path, "127.0.0.1:" + port, headers, body);
  }

  private static RawHttp.Response exchange(String method, String path, String host, String headers, String body)
      throws Exception {
    byte[] content = body.getBytes(StandardCharsets.UTF_8);
    byte[] head = (method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + headers
        + (method.equals("POST") ? "Content-Length: " + content.length + "\r\n" : "")
        + "Connection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
    byte[] all = new byte[head.length + content.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(content, 0, all, head.length, content.length);
    return RawHttp.exchange(port, all);
  }

  private static String chat() {
    return "{\"model\":\"cors-llm\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":1}";
  }
}
