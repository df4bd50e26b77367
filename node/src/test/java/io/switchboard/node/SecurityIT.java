package io.switchboard.node;

import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.FreePorts;
import io.switchboard.testsupport.NodeProcess;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.switchboard.node.ClusterTestSupport.freshCluster;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two nodes set up to face a network: HTTPS on the API (PEM files), mutual TLS on the event bus between them,
 * API keys, and a per-key rate limit. A gateway-only node serves requests through the other node's worker (so
 * the request crosses the encrypted event bus), the rate limit is counted across both gateways, and the event
 * bus refuses a peer without the cluster's certificate.
 */
class SecurityIT {

  private static final String KEY = "sk-it-team-000001";
  private static final String UNLIMITED_KEY = "sk-it-free-000002";
  private static final String ADMIN_KEY = "admin-it-key-123";
  private static final int RPM = 6;
  private static final Path CERTS = Path.of("target", "security-it");
  private static final List<NodeProcess> nodes = new ArrayList<>();
  private static int gatewayPort;
  private static int fullPort;
  private static int eventBusPort;
  private static int grpcPort;
  private static HttpClient https;

  @BeforeAll
  static void start() throws Exception {
    assertThat(NodeProcess.jar()).as("run mvn package first").exists();
    makeCertificates();
    https = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(trusting(CERTS.resolve("ca.pem")))
        .connectTimeout(Duration.ofSeconds(5)).build();
    Map<String, String> env = new HashMap<>(freshCluster("security"));
    env.put("SWITCHBOARD_CLUSTER_TLS_CERT_PATH", CERTS.resolve("node.pem").toAbsolutePath().toString());
    env.put("SWITCHBOARD_CLUSTER_TLS_KEY_PATH", CERTS.resolve("node.key").toAbsolutePath().toString());
    env.put("SWITCHBOARD_CLUSTER_TLS_CA_PATH", CERTS.resolve("ca.pem").toAbsolutePath().toString());
    env.put("SWITCHBOARD_GATEWAY_TLS_CERT_PATH", CERTS.resolve("node.pem").toAbsolutePath().toString());
    env.put("SWITCHBOARD_GATEWAY_TLS_KEY_PATH", CERTS.resolve("node.key").toAbsolutePath().toString());
    env.put("SWITCHBOARD_API_KEYS", KEY + ";name=team;rpm=" + RPM + "," + UNLIMITED_KEY + ";name=free");
    env.put("SWITCHBOARD_GATEWAY_ADMIN_KEY", ADMIN_KEY);
    gatewayPort = FreePorts.any();
    fullPort = FreePorts.any();
    eventBusPort = FreePorts.any();
    Map<String, String> gatewayEnv = new HashMap<>(env);
    gatewayEnv.put("SWITCHBOARD_CLUSTER_EVENT_BUS_PORT", Integer.toString(eventBusPort));
    // The gateway-only node reaches the worker over the gRPC plane, TLS too; load reports cross the event bus.
    gatewayEnv.put("SWITCHBOARD_GATEWAY_REQUEST_PLANE", "grpc");
    grpcPort = FreePorts.any();
    env.put("SWITCHBOARD_GRPC_PORT", Integer.toString(grpcPort));
    nodes.add(new NodeProcess("security-gateway", gatewayEnv, "--roles", "gateway", "--http-port",
        Integer.toString(gatewayPort)));
    nodes.add(new NodeProcess("security-full", env, "--http-port", Integer.toString(fullPort)));
    Eventually.within(ofSeconds(90), "the gateway-only node sees the other node's worker over the TLS event bus",
        () -> routable(gatewayPort) && routable(fullPort));
  }

  @AfterAll
  static void stop() throws Exception {
    for (NodeProcess node : nodes) {
      node.close();
    }
  }

  @Test
  void overHttpsTheApiNeedsAKeyAndRequestsCrossTheEncryptedEventBus() throws Exception {
    HttpResponse<String> none = chat(gatewayPort, null);
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(new JsonObject(none.body()).getJsonObject("error").getString("code")).isEqualTo("missing_api_key");
    HttpResponse<String> served = chat(gatewayPort, UNLIMITED_KEY);
    assertThat(served.statusCode()).as(served.body()).isEqualTo(200);
    assertThat(served.headers().firstValue("x-switchboard-worker")).as("the only worker is on the other node, over gRPC")
        .isPresent();
    assertThat(nodes.get(0).output()).contains("\"scheme\":\"https\"");
  }

  @Test
  void theRateLimitIsCountedAcrossBothGateways() throws Exception {
    int accepted = 0;
    HttpResponse<String> refused = null;
    for (int i = 0; i < RPM * 3 && refused == null; i++) {
      HttpResponse<String> response = chat(i % 2 == 0 ? fullPort : gatewayPort, KEY);
      if (response.statusCode() == 429) {
        refused = response;
      } else {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        accepted++;
      }
    }
    assertThat(refused).as("the key was limited").isNotNull();
    assertThat(accepted).as("requests let through by the two gateways together").isLessThanOrEqualTo(RPM);
    assertThat(refused.headers().firstValue("retry-after")).isPresent();
    assertThat(refused.headers().firstValue("x-ratelimit-limit-requests")).hasValue(String.valueOf(RPM));
    JsonObject error = new JsonObject(refused.body()).getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo("rate_limit_exceeded");
    assertThat(error.getString("message")).contains("across every gateway of the cluster");
    assertThat(chat(fullPort, KEY).statusCode()).as("the other gateway refuses too").isEqualTo(429);
    assertThat(chat(gatewayPort, KEY).statusCode()).isEqualTo(429);
  }

  @Test
  void theEventBusAndTheGrpcPlaneRefuseAPeerWithoutTheClustersCertificate() throws Exception {
    assertThat(refusesPeerWithoutCertificate(eventBusPort)).as("the event bus").isTrue();
    assertThat(refusesPeerWithoutCertificate(grpcPort)).as("the gRPC plane").isTrue();
  }

  private static boolean refusesPeerWithoutCertificate(int port) throws Exception {
    boolean refused;
    try (SSLSocket socket = (SSLSocket) trusting(CERTS.resolve("ca.pem")).getSocketFactory()
        .createSocket("127.0.0.1", port)) {
      socket.setSoTimeout(5000);
      // Completes: the event bus speaks TLS with a certificate from the cluster's CA...
      socket.startHandshake();
      assertThat(socket.getSession().getPeerCertificates()).isNotEmpty();
      // ...and then drops this client, which showed no certificate of its own.
      try {
        socket.getOutputStream().write(new byte[] {0, 0, 0, 1, 1});
        socket.getOutputStream().flush();
        refused = socket.getInputStream().read() == -1;
      } catch (javax.net.ssl.SSLException | java.net.SocketException rejected) {
        refused = true;
      }
    }
    return refused;
  }

  private static HttpResponse<String> chat(int port, String key) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/v1/chat/completions"))
        .timeout(Duration.ofSeconds(30)).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"mock-llm\",\"max_tokens\":3,\"messages\":"
            + "[{\"role\":\"user\",\"content\":\"hello\"}]}"));
    if (key != null) {
      request.header("authorization", "Bearer " + key);
    }
    return https.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static boolean routable(int port) {
    try {
      HttpResponse<String> health = https.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port
          + "/health")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
      return health.statusCode() == 200;
    } catch (Exception notUpYet) {
      return false;
    }
  }

  /** A CA and one node certificate (for 127.0.0.1) signed by it, made with openssl. */
  private static void makeCertificates() throws Exception {
    Files.createDirectories(CERTS);
    Files.writeString(CERTS.resolve("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days",
        "2", "-subj", "/CN=switchboard-test-ca");
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "node.key", "-out", "node.csr", "-subj",
        "/CN=127.0.0.1");
    run("openssl", "x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "node.pem", "-days", "2", "-extfile", "san.ext");
  }

  private static void run(String... command) throws Exception {
    Process process = new ProcessBuilder(command).directory(CERTS.toFile()).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(String.join(" ", command) + ": " + output).isZero();
  }

  private static SSLContext trusting(Path caPem) throws Exception {
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    try (InputStream in = Files.newInputStream(caPem)) {
      store.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(store);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trust.getTrustManagers(), null);
    return context;
  }
}
