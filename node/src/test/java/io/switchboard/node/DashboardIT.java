package io.switchboard.node;

import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.FreePorts;
import io.switchboard.testsupport.NodeProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static io.switchboard.node.ClusterTestSupport.chat;
import static io.switchboard.node.ClusterTestSupport.freshCluster;
import static io.switchboard.node.ClusterTestSupport.routableWorkers;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The live dashboard in a real headless Chromium: the embedded default node (behind an admin key) and a second
 * worker node; the page, opened with the key, goes live over SSE, lists both workers and the model, shows
 * traffic as it happens, and shows a worker leave when its node is killed. The screenshot is kept as
 * target/dashboard.png.
 */
class DashboardIT {

  private static final String KEY = "dashboard-admin-key";
  private static NodeProcess node;
  private static NodeProcess worker;
  private static int httpPort;

  @BeforeAll
  static void start() throws Exception {
    assertThat(NodeProcess.jar()).as("run mvn package first").exists();
    Map<String, String> cluster = freshCluster("dashboard");
    httpPort = FreePorts.any();
    Map<String, String> env = new HashMap<>(cluster);
    env.put("SWITCHBOARD_WORKERS_0_ID", "embedded-1");
    env.put("SWITCHBOARD_GATEWAY_ADMIN_KEY", KEY);
    node = new NodeProcess("dashboard-node", env, "--http-port", Integer.toString(httpPort));
    Map<String, String> workerEnv = new HashMap<>(cluster);
    workerEnv.put("SWITCHBOARD_WORKERS_0_ID", "second-1");
    worker = new NodeProcess("dashboard-worker", workerEnv, "--roles", "worker");
    Eventually.within(ofSeconds(60), "both workers are routable",
        () -> routableWorkersWithKey().contains("embedded-1") && routableWorkersWithKey().contains("second-1"));
  }

  private static java.util.List<String> routableWorkersWithKey() {
    try {
      return routableWorkersWithKeyNow();
    } catch (Exception notUpYet) {
      return java.util.List.of();
    }
  }

  private static java.util.List<String> routableWorkersWithKeyNow() throws Exception {
    var response = ClusterTestSupport.HTTP.send(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create("http://127.0.0.1:" + httpPort + "/admin/cluster"))
        .header("authorization", "Bearer " + KEY).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      return java.util.List.of();
    }
    return new io.vertx.core.json.JsonObject(response.body()).getJsonArray("workers").stream()
        .map(io.vertx.core.json.JsonObject.class::cast).filter(w -> "routable".equals(w.getString("status")))
        .map(w -> w.getString("workerId")).toList();
  }

  @AfterAll
  static void stop() throws Exception {
    if (worker != null) {
      worker.close();
    }
    if (node != null) {
      node.close();
    }
  }

  @Test
  void theDashboardShowsTheClusterLiveInARealBrowser() throws Exception {
    assertThat(routableWorkers(httpPort)).as("/admin needs the key").isEmpty();
    try (HeadlessChromium browser = new HeadlessChromium("http://127.0.0.1:" + httpPort + "/dashboard?admin_key="
        + KEY)) {
      // Asked until the page is parsed: before that the element is not there yet (a slow machine's first look).
      Eventually.within(ofSeconds(20), "the page is live", () -> "live".equals(browser.evaluate(
          "(document.getElementById('status') || {}).textContent")));
      Eventually.within(ofSeconds(20), "both workers are listed as routable",
          () -> Boolean.TRUE.equals(browser.evaluate(
          "['embedded-1','second-1'].every(id => { var r = document.querySelector('#workers tr[data-worker=\"'"
              + " + id + '\"]'); return r && r.dataset.status === 'routable'; })")));
      assertThat(browser.evaluate("document.querySelector('#models tr[data-model=\"mock-llm\"]') !== null"))
          .isEqualTo(true);
      assertThat(browser.evaluate("document.getElementById('workercount').textContent")).isEqualTo("2 / 2");

      for (int i = 0; i < 20; i++) {
        assertThat(chat(httpPort, "mock-llm", 3).statusCode()).isEqualTo(200);
      }
      Eventually.within(ofSeconds(10), "the traffic shows", () -> {
        Object rps = browser.evaluate("parseFloat(document.getElementById('rps').textContent)");
        return rps instanceof Number n && n.doubleValue() > 0
            && !"–".equals(browser.evaluate("document.getElementById('ttft').textContent"));
      });
      browser.screenshot(Path.of("target", "dashboard.png"));

      worker.kill();
      Eventually.within(ofSeconds(15), "the killed worker leaves the page", () -> Boolean.TRUE.equals(browser.evaluate(
          "document.querySelector('#workers tr[data-worker=\"second-1\"]') === null")));
      assertThat(browser.evaluate("document.getElementById('workercount').textContent")).isEqualTo("1 / 1");
    }
    assertThat(Files.size(Path.of("target", "dashboard.png"))).isGreaterThan(10_000);
  }
}
