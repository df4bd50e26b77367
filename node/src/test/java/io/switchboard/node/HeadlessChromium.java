package io.switchboard.node;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Debian's real Chromium, headless, driven over the DevTools protocol with the JDK's WebSocket client: open a
 * page, evaluate JavaScript in it, take a screenshot. (No driver download: the browser is the system's, which
 * tools/test-all installs.) The flags keep it off the network: this machine refuses outside connections.
 */
final class HeadlessChromium implements AutoCloseable {

  static final Path BINARY = Path.of(System.getProperty("chromium.bin", "/usr/bin/chromium"));
  private static final Pattern DEVTOOLS = Pattern.compile("DevTools listening on (ws://[^/]+)/");

  private final Process process;
  private final Path profile;
  private final WebSocket socket;
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, CompletableFuture<JsonObject>> pending = new ConcurrentHashMap<>();

  HeadlessChromium(String url) throws Exception {
    if (!Files.isExecutable(BINARY)) {
      throw new AssertionError(BINARY + " is missing: install Debian's chromium (tools/test-all does)");
    }
    profile = Files.createTempDirectory("switchboard-chromium");
    process = new ProcessBuilder(BINARY.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-extensions", "--remote-allow-origins=*", "--remote-debugging-port=0",
        "--user-data-dir=" + profile, "--window-size=1400,1000", url)
        .redirectErrorStream(true).start();
    String devtools = devtoolsAddress();
    String http = devtools.replace("ws://", "http://");
    HttpClient client = HttpClient.newHttpClient();
    JsonObject page = null;
    long until = System.currentTimeMillis() + 15_000;
    while (page == null) {
      JsonArray targets = new JsonArray(client.send(HttpRequest.newBuilder(URI.create(http + "/json/list")).build(),
          HttpResponse.BodyHandlers.ofString()).body());
      page = targets.stream().map(JsonObject.class::cast).filter(t -> "page".equals(t.getString("type")))
          .findFirst().orElse(null);
      if (page == null && System.currentTimeMillis() > until) {
        throw new AssertionError("chromium opened no page: " + targets);
      }
      Thread.sleep(100);
    }
    socket = client.newWebSocketBuilder().buildAsync(URI.create(page.getString("webSocketDebuggerUrl")),
        new Listener()).get(10, TimeUnit.SECONDS);
  }

  private String devtoolsAddress() throws IOException {
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    StringBuilder seen = new StringBuilder();
    long until = System.currentTimeMillis() + 30_000;
    String line;
    while (System.currentTimeMillis() < until && (line = out.readLine()) != null) {
      seen.append(line).append('\n');
      Matcher matcher = DEVTOOLS.matcher(line);
      if (matcher.find()) {
        // Keep draining its output so the browser never blocks on a full pipe.
        Thread drain = new Thread(() -> {
          try {
            while (out.readLine() != null) {
              // discarded
            }
          } catch (IOException ignored) {
            // the browser exited
          }
        }, "chromium-output");
        drain.setDaemon(true);
        drain.start();
        return matcher.group(1);
      }
    }
    throw new AssertionError("chromium did not open its DevTools port; it said:\n" + seen);
  }

  /** The value of a JavaScript expression in the page. */
  Object evaluate(String expression) throws Exception {
    JsonObject result = call("Runtime.evaluate", new JsonObject().put("expression", expression)
        .put("returnByValue", true)).getJsonObject("result");
    if (result.containsKey("exceptionDetails")) {
      throw new AssertionError("the page threw: " + result.getJsonObject("exceptionDetails").encode());
    }
    return result.getJsonObject("result").getValue("value");
  }

  void screenshot(Path file) throws Exception {
    String png = call("Page.captureScreenshot", new JsonObject().put("format", "png"))
        .getJsonObject("result").getString("data");
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.write(file, Base64.getDecoder().decode(png));
  }

  private JsonObject call(String method, JsonObject params) throws Exception {
    int id = ids.incrementAndGet();
    CompletableFuture<JsonObject> reply = new CompletableFuture<>();
    pending.put(id, reply);
    socket.sendText(new JsonObject().put("id", id).put("method", method).put("params", params).encode(), true)
        .get(10, TimeUnit.SECONDS);
    JsonObject answer = reply.get(20, TimeUnit.SECONDS);
    if (answer.containsKey("error")) {
      throw new AssertionError(method + " failed: " + answer.getJsonObject("error").encode());
    }
    return answer;
  }

  private final class Listener implements WebSocket.Listener {
    private final StringBuilder partial = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        JsonObject message = new JsonObject(partial.toString());
        partial.setLength(0);
        Integer id = message.getInteger("id");
        CompletableFuture<JsonObject> reply = id == null ? null : pending.remove(id);
        if (reply != null) {
          reply.complete(message);
        }
      }
      webSocket.request(1);
      return null;
    }
  }

  @Override
  public void close() throws Exception {
    try {
      socket.abort();
    } finally {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      // Chromium's helper processes may still be writing their last files: remove what is there, best effort.
      try (var files = Files.walk(profile)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (java.io.IOException | java.io.UncheckedIOException stillChanging) {
        profile.toFile().deleteOnExit();
      }
    }
  }
}
