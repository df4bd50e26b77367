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

import java.nio.charset.StandardCharsets;
import java.util.List;

import static java.time.Duration.ofSeconds;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A web page attacking an open gateway on the default loopback address through the browser of a user who
 * visits it, with the headers real browsers send: by DNS rebinding (the page's own name, resolved to 127.0.0.1,
 * in {@code Host}) and by cross-site requests (a "simple" POST needs no preflight; its {@code Origin} and
 * {@code Sec-Fetch-Site} say where it came from). Neither reaches /v1 or /admin; the gateway's own pages, the
 * OpenAI SDKs and curl (which send no Origin) still do.
 */
@ExtendWith(VertxExtension.class)
class BrowserAttacksTest {

  private static final String MODEL = "browser-llm";
  private static final String WORKER = "browser-w";
  private static final String ATTACKER = "http://attacker.example";
  private static int port;

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId(WORKER).setModel(MODEL)
        .setMocker(new MockerOptions().setPrefillTokensPerSecond(0).setDecodeTokensPerSecond(0)), "node-w"))
        .await(30, SECONDS);
    GatewayVerticle gateway = new GatewayVerticle(new GatewayOptions().setHttpPort(0).setRegistryResyncMs(300),
        ClusterView.standalone("node-g"), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    vertx.deployVerticle(gateway).await(30, SECONDS);
    port = gateway.actualPort();
    Eventually.within(ofSeconds(10), "the worker becomes routable",
        () -> RawHttp.post(port, "/v1/chat/completions", chat(), "").status() == 200);
  }

  @Test
  void aPageReachingTheGatewayByDnsRebindingIsRefused() throws Exception {
    // The page at http://attacker.example:PORT/ whose name now resolves to 127.0.0.1.
    String host = "attacker.example:" + port;
    for (RawHttp.Response response : List.of(
        request("GET", "/v1/models", host, "", ""),
        request("POST", "/v1/chat/completions", host, "Origin: http://" + host + "\r\nSec-Fetch-Site: same-origin\r\n"
            + "Content-Type: application/json\r\n", chat()),
        request("GET", "/admin/cluster", host, "", ""),
        request("POST", "/admin/workers/" + WORKER + "/drain", host, "", ""),
        request("GET", "/health", host, "", ""))) {
      assertThat(response.status()).as(response.body()).isEqualTo(421);
      assertThat(response.error().getString("code")).isEqualTo("host_not_allowed");
      assertThat(response.error().getString("message")).contains("attacker.example", "gateway.allowedHosts");
    }
    assertServes();
  }

  @Test
  void loopbackNamesWithAnyPortAreAnswered() throws Exception {
    for (String host : List.of("127.0.0.1:" + port, "localhost:" + port, "localhost", "127.0.0.1", "[::1]:" + port,
        "127.1.2.3:9999")) {
      RawHttp.Response response = request("GET", "/v1/models", host, "", "");
      assertThat(response.status()).as(host).isEqualTo(200);
    }
  }

  @Test
  void aCrossSitePostIsRefusedBeforeItReachesAWorker() throws Exception {
    // fetch(url, {method: "POST", mode: "no-cors", body}) or a form: text/plain needs no preflight.
    RawHttp.Response response = request("POST", "/v1/chat/completions", "127.0.0.1:" + port,
        "Origin: " + ATTACKER + "\r\nSec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: no-cors\r\nSec-Fetch-Dest: empty\r\n"
            + "Content-Type: text/plain;charset=UTF-8\r\n", chat());
    assertThat(response.status()).as(response.body()).isEqualTo(403);
    assertThat(response.error().getString("code")).isEqualTo("origin_not_allowed");
    assertThat(response.error().getString("message")).contains(ATTACKER, "gateway.cors.allowedOrigins");
    assertThat(response.headers()).doesNotContainKey("x-switchboard-worker").doesNotContainKey(
        "access-control-allow-origin");
  }

  @Test
  void aCrossSiteFormWithoutOriginIsRefused() throws Exception {
    RawHttp.Response response = request("POST", "/v1/completions", "localhost:" + port,
        "Sec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: navigate\r\nContent-Type: application/x-www-form-urlencoded\r\n",
        "{\"model\":\"" + MODEL + "\",\"prompt\":\"hi\",\"max_tokens\":1}");
    assertThat(response.status()).as(response.body()).isEqualTo(403);
    assertThat(response.error().getString("code")).isEqualTo("origin_not_allowed");
  }

  @Test
  void aCrossSitePageCannotDrainAWorker() throws Exception {
    RawHttp.Response response = request("POST", "/admin/workers/" + WORKER + "/drain", "127.0.0.1:" + port,
        "Origin: " + ATTACKER + "\r\nSec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: no-cors\r\n", "");
    assertThat(response.status()).as(response.body()).isEqualTo(403);
    assertThat(response.error().getString("message")).contains("/admin");
    assertServes();
  }

  @Test
  void aPreflightFromAnotherOriginIsRefused() throws Exception {
    RawHttp.Response response = request("OPTIONS", "/v1/chat/completions", "127.0.0.1:" + port,
        "Origin: " + ATTACKER + "\r\nAccess-Control-Request-Method: POST\r\n"
            + "Access-Control-Request-Headers: authorization,content-type\r\nSec-Fetch-Mode: cors\r\n"
            + "Sec-Fetch-Site: cross-site\r\n", "");
    assertThat(response.status()).as(response.body()).isEqualTo(403);
    assertThat(response.headers()).doesNotContainKey("access-control-allow-origin");
  }

  @Test
  void theGatewaysOwnPagesTheSdksAndCurlStillWork() throws Exception {
    String host = "127.0.0.1:" + port;
    RawHttp.Response sameOrigin = request("POST", "/v1/chat/completions", host, "Origin: http://" + host
        + "\r\nSec-Fetch-Site: same-origin\r\nSec-Fetch-Mode: cors\r\nContent-Type: application/json\r\n", chat());
    assertThat(sameOrigin.status()).as(sameOrigin.body()).isEqualTo(200);
    // What the OpenAI Python SDK sends (httpx): no Origin, no Sec-Fetch-*.
    RawHttp.Response sdk = request("POST", "/v1/chat/completions", host, "User-Agent: OpenAI/Python 1.54.0\r\n"
        + "X-Stainless-Lang: python\r\nX-Stainless-Package-Version: 1.54.0\r\nAuthorization: Bearer unused\r\n"
        + "Content-Type: application/json\r\nAccept: application/json\r\n", chat());
    assertThat(sdk.status()).as(sdk.body()).isEqualTo(200);
    RawHttp.Response curl = request("GET", "/v1/models", "localhost:" + port, "User-Agent: curl/8.5.0\r\n"
        + "Accept: */*\r\n", "");
    assertThat(curl.status()).isEqualTo(200);
    // A link to the dashboard followed from another site: a navigation, which changes nothing.
    RawHttp.Response link = request("GET", "/dashboard", host, "Sec-Fetch-Site: cross-site\r\n"
        + "Sec-Fetch-Mode: navigate\r\nSec-Fetch-Dest: document\r\n", "");
    assertThat(link.status()).isEqualTo(200);
    JsonObject health = request("GET", "/health", host, "", "").json();
    assertThat(health.getJsonObject("models").getMap()).as("an open gateway still lists its models")
        .containsKey(MODEL);
  }

  private static void assertServes() throws Exception {
    assertThat(RawHttp.post(port, "/v1/chat/completions", chat(), "").status()).isEqualTo(200);
    JsonObject cluster = RawHttp.get(port, "/admin/cluster", "").json();
    assertThat(cluster.getJsonArray("workers").getJsonObject(0).getString("status")).as("the worker is not drained")
        .isEqualTo("routable");
  }

  private static RawHttp.Response request(String method, String path, String host, String headers, String body)
      throws Exception {
    byte[] content = body.getBytes(StandardCharsets.UTF_8);
    byte[] head = (method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + headers
        + (content.length > 0 || method.equals("POST") ? "Content-Length: " + content.length + "\r\n" : "")
        + "Connection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
    byte[] all = new byte[head.length + content.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(content, 0, all, head.length, content.length);
    return RawHttp.exchange(port, all);
  }

  private static String chat() {
    return "{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":1}";
  }
}
