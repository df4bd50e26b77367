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
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static java.time.Duration.ofSeconds;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The hostile-input suite: a corpus of malformed and adversarial requests (bad JSON, wrong types in every field,
 * huge strings, deep nesting, invalid UTF-8, unknown fields, extreme numbers, header and framing abuse, odd
 * paths) plus a bounded, seeded fuzz of valid bodies. Every input must get an answer that is not a 5xx: an
 * OpenAI-shaped 4xx error, or a proper completion where the mutation happened to stay valid. Afterwards the
 * gateway still serves, holds no request open, and its heap has not grown without bound.
 */
@ExtendWith(VertxExtension.class)
class HostileInputTest {

  private static final long SEED = 20261123L;
  private static final int FUZZ_CASES = 1500;
  private static final String MODEL = "fuzz-llm";
  private static int port;
  private final Map<String, Integer> statuses = new TreeMap<>();
  private int tried;

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    vertx.deployVerticle(new WorkerVerticle(new WorkerOptions().setId("fuzz-w").setModel(MODEL).setSlots(64)
        .setMocker(new MockerOptions().setDecodeTokensPerSecond(100_000)), "node-w")).await(30, SECONDS);
    GatewayVerticle gateway = new GatewayVerticle(new GatewayOptions().setHttpPort(0).setRegistryResyncMs(300)
        .setMaxBodyBytes(256 * 1024), ClusterView.standalone("node-g"),
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    vertx.deployVerticle(gateway).await(30, SECONDS);
    port = gateway.actualPort();
    Eventually.within(ofSeconds(10), "the worker becomes routable",
        () -> RawHttp.post(port, "/v1/chat/completions", validChat(), "").status() == 200);
  }

  @Test
  void noInputCrashesTheGatewayOrGetsA5xx() throws Exception {
    long heapBefore = usedHeapAfterGc();
    int corpus = 0;
    for (String path : List.of("/v1/chat/completions", "/v1/completions", "/v1/embeddings")) {
      for (byte[] body : malformedBodies()) {
        expectNo5xx(RawHttp.post(port, path, body, ""), path, body);
        corpus++;
      }
    }
    for (JsonObject body : wrongTypes(new JsonObject(validChat()), List.of("model", "messages", "max_tokens",
        "max_completion_tokens", "temperature", "top_p", "n", "stream", "stream_options", "stop", "seed", "user",
        "presence_penalty", "frequency_penalty", "logprobs", "top_logprobs", "tools", "tool_choice",
        "response_format", "logit_bias"))) {
      expectNo5xx(RawHttp.post(port, "/v1/chat/completions", body.encode(), ""), "chat", body.encode());
      corpus++;
    }
    JsonObject chat = new JsonObject(validChat());
    for (Object value : nastyValues()) {
      JsonObject message = chat.copy();
      message.getJsonArray("messages").getJsonObject(0).put("role", value);
      expectNo5xx(RawHttp.post(port, "/v1/chat/completions", message.encode(), ""), "role", message.encode());
      JsonObject content = chat.copy();
      content.getJsonArray("messages").getJsonObject(0).put("content", value);
      expectNo5xx(RawHttp.post(port, "/v1/chat/completions", content.encode(), ""), "content", content.encode());
      JsonObject element = chat.copy().put("messages", new JsonArray().add(value));
      expectNo5xx(RawHttp.post(port, "/v1/chat/completions", element.encode(), ""), "message", element.encode());
      corpus += 3;
    }
    for (JsonObject body : wrongTypes(new JsonObject(validCompletion()), List.of("model", "prompt", "max_tokens",
        "echo", "suffix", "best_of", "logprobs", "stop", "stream"))) {
      expectNo5xx(RawHttp.post(port, "/v1/completions", body.encode(), ""), "completion", body.encode());
      corpus++;
    }
    for (JsonObject body : wrongTypes(new JsonObject().put("model", MODEL).put("input", "embed me"),
        List.of("model", "input", "encoding_format", "dimensions", "user"))) {
      expectNo5xx(RawHttp.post(port, "/v1/embeddings", body.encode(), ""), "embedding", body.encode());
      corpus++;
    }
    for (byte[] request : rawRequests()) {
      RawHttp.Response response = RawHttp.exchange(port, request);
      String shown = new String(request, 0, Math.min(request.length, 120), StandardCharsets.ISO_8859_1);
      if (response.status() == 0 && BROKEN_BODY_FRAMING.contains(shown)) {
        // Broken chunk framing inside the body: the stream cannot be resynchronised, the connection is cut.
        tried++;
        statuses.merge("closed", 1, Integer::sum);
      } else if (NOT_HTTP_1.contains(shown)) {
        // Not HTTP/1.x at all: the HTTP layer's own answer, 501 in that version, before any handler runs.
        tried++;
        assertThat(response.status()).as(shown).isEqualTo(501);
        statuses.merge("501 (not HTTP/1.x)", 1, Integer::sum);
      } else {
        assertThat(response.status()).as("an answer to raw request %s", shown).isNotZero();
        expectNo5xx(response, "raw", request);
      }
      corpus++;
    }
    int fuzzed = fuzz();
    assertThat(RawHttp.post(port, "/v1/chat/completions", validChat(), "").status())
        .as("the gateway still serves").isEqualTo(200);
    JsonObject open = RawHttp.get(port, "/admin/requests", "").json();
    assertThat(open.getInteger("count")).as("no request is left open").isZero();
    long heapAfter = usedHeapAfterGc();
    System.out.printf("hostile-input: tried %d inputs (%d corpus, %d fuzzed, seed %d); statuses %s; "
        + "heap after GC %d -> %d MB%n", tried, corpus, fuzzed, SEED, statuses, heapBefore >> 20, heapAfter >> 20);
    assertThat(tried).isGreaterThanOrEqualTo(500 + FUZZ_CASES);
    assertThat(heapAfter - heapBefore).as("heap growth over the suite").isLessThan(128L << 20);
  }

  private void expectNo5xx(RawHttp.Response response, String what, Object input) {
    tried++;
    String shown = input instanceof byte[] bytes
        ? new String(bytes, 0, Math.min(bytes.length, 160), StandardCharsets.ISO_8859_1) : String.valueOf(input);
    statuses.merge(String.valueOf(response.status()), 1, Integer::sum);
    assertThat(response.status()).as("%s: %s -> %s", what, shown, response.body()).isBetween(200, 499);
    if (response.status() >= 400) {
      JsonObject error = new JsonObject(response.body()).getJsonObject("error");
      assertThat(error.getString("message")).as("%s: %s", what, shown).isNotBlank();
      assertThat(error.getString("type")).as("%s: %s", what, shown).isNotBlank();
    }
  }

  private int fuzz() throws Exception {
    Random random = new Random(SEED);
    List<byte[]> seeds = List.of(validChat().getBytes(StandardCharsets.UTF_8),
        validCompletion().getBytes(StandardCharsets.UTF_8),
        "{\"model\":\"fuzz-llm\",\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}],\"max_tokens\":2,\"stream\":true,\"stream_options\":{\"include_usage\":true},\"stop\":[\"x\"]}"
            .getBytes(StandardCharsets.UTF_8));
    String[] paths = {"/v1/chat/completions", "/v1/completions", "/v1/chat/completions"};
    byte[][] splices = {"{".getBytes(), "}".getBytes(), "[".getBytes(), "\"".getBytes(), "\\".getBytes(),
        "1e999".getBytes(), "-0".getBytes(), "null".getBytes(), "\\u0000".getBytes(), "\\ud800".getBytes(),
        new byte[] {(byte) 0xff}, new byte[] {(byte) 0xc0, (byte) 0xaf}, new byte[] {0}, ",".getBytes(),
        ":".getBytes(), "99999999999999999999".getBytes()};
    for (int i = 0; i < FUZZ_CASES; i++) {
      int which = random.nextInt(seeds.size());
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      body.write(seeds.get(which));
      byte[] mutated = body.toByteArray();
      for (int m = 1 + random.nextInt(4); m > 0; m--) {
        mutated = mutate(mutated, random, splices);
      }
      expectNo5xx(RawHttp.post(port, paths[which], mutated, ""), "fuzz case " + i, mutated);
    }
    return FUZZ_CASES;
  }

  private static byte[] mutate(byte[] input, Random random, byte[][] splices) {
    if (input.length == 0) {
      return splices[random.nextInt(splices.length)];
    }
    int at = random.nextInt(input.length);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    switch (random.nextInt(5)) {
      case 0 -> { // flip a byte
        byte[] copy = input.clone();
        copy[at] = (byte) random.nextInt(256);
        return copy;
      }
      case 1 -> { // delete a range
        int end = Math.min(input.length, at + 1 + random.nextInt(8));
        out.write(input, 0, at);
        out.write(input, end, input.length - end);
      }
      case 2 -> { // splice in a nasty token
        out.write(input, 0, at);
        out.writeBytes(splices[random.nextInt(splices.length)]);
        out.write(input, at, input.length - at);
      }
      case 3 -> { // duplicate a range
        int end = Math.min(input.length, at + 1 + random.nextInt(16));
        out.write(input, 0, end);
        out.write(input, at, input.length - at);
      }
      default -> { // truncate
        out.write(input, 0, at);
      }
    }
    return out.toByteArray();
  }

  private static List<byte[]> malformedBodies() {
    List<String> texts = new ArrayList<>(List.of("", " ", "null", "true", "1", "-1", "\"text\"", "[]", "[{}]", "{}",
        "{", "}", "{\"model\":", "{'model':'fuzz-llm'}", "{\"model\":\"fuzz-llm\",}", "{} {}", "{\"a\":NaN}",
        "{\"a\":Infinity}", "/*c*/{}", "\ufeff{\"model\":\"fuzz-llm\"}", "{\"model\":\"fuzz-llm\"",
        "{\"model\" \"fuzz-llm\"}", "{\"model\":\"fuzz-llm\",\"model\":\"other\"}", "{\"\":\"\"}",
        "{\"model\":\"\\ud800\"}", "{\"model\":\"\\u0000\"}", "{\"model\":\"a\\qb\"}", "{\"model\":01}",
        "{\"model\":\"fuzz-llm\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":1e999}",
        "{\"model\":\"fuzz-llm\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":-0}",
        "{\"model\":\"fuzz-llm\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"unknown_field\":{\"deep\":[1,2,3]}}",
        "{\"model\":\"fuzz-llm\",\"prompt\":\"hi\",\"__proto__\":{\"admin\":true}}",
        "{\"model\":\"http://169.254.169.254/latest/meta-data\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
        "{\"model\":\"../../etc/passwd\",\"prompt\":\"hi\"}",
        "{\"model\":\"fuzz-llm\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"base_url\":\"http://127.0.0.1:1/\"}"));
    texts.add("[".repeat(100_000));
    texts.add("{\"a\":".repeat(20_000) + "1" + "}".repeat(20_000));
    texts.add("{\"model\":\"fuzz-llm\",\"messages\":" + "[".repeat(5000) + "]".repeat(5000) + "}");
    texts.add("{\"model\":\"" + "m".repeat(200_000) + "\",\"prompt\":\"hi\"}");
    texts.add("{\"model\":\"fuzz-llm\",\"messages\":[{\"role\":\"user\",\"content\":\"" + "\\u0041".repeat(40_000) + "\"}],\"max_tokens\":1}");
    texts.add("{\"model\":\"fuzz-llm\",\"stop\":[" + "\"s\",".repeat(10_000) + "\"s\"],\"prompt\":\"hi\"}");
    texts.add("{\"model\":\"fuzz-llm\",\"n\":1," + "\"k\":1,".repeat(20_000) + "\"prompt\":\"hi\"}");
    texts.add("{\"model\":\"fuzz-llm\",\"messages\":[" + "{\"role\":\"user\",\"content\":\"x\"},".repeat(3000)
        + "{\"role\":\"user\",\"content\":\"x\"}]}");
    List<byte[]> bodies = new ArrayList<>();
    for (String text : texts) {
      bodies.add(text.getBytes(StandardCharsets.UTF_8));
    }
    byte[] prefix = "{\"model\":\"fuzz-llm\",\"prompt\":\"".getBytes(StandardCharsets.UTF_8);
    byte[] suffix = "\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"input\":\"x\"}".getBytes(StandardCharsets.UTF_8);
    for (byte[] invalid : new byte[][] {{(byte) 0xff, (byte) 0xfe}, {(byte) 0xc0, (byte) 0xaf},
        {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, {(byte) 0xf8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80},
        {(byte) 0xe2, (byte) 0x82}, {0}, {0x1b, '[', '2', 'J'}, {(byte) 0x80}}) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.writeBytes(prefix);
      out.writeBytes(invalid);
      out.writeBytes(suffix);
      bodies.add(out.toByteArray());
    }
    bodies.add("{\"model\":\"fuzz-llm\",\"prompt\":\"hi\"}".getBytes(StandardCharsets.UTF_16));
    return bodies;
  }

  private static List<Object> nastyValues() {
    List<Object> values = new ArrayList<>(List.of(true, false, 0, -1, 1, 2, 1.5, -1.5, Long.MAX_VALUE, Long.MIN_VALUE,
        Double.MAX_VALUE, -Double.MAX_VALUE, 4.9e-324, new java.math.BigInteger("123456789012345678901234567890"),
        "", " ", "fuzz-llm", "x".repeat(100_000), "\u0000", "\ud83d\ude00", "<script>alert(1)</script>",
        "'; DROP TABLE models; --", "%s%s%n", "${jndi:ldap://127.0.0.1/x}", new JsonArray(), new JsonObject(),
        new JsonArray().add((Object) null), new JsonArray().add(new JsonArray()), new JsonArray().add(1).add("a"),
        new JsonObject().put("type", "text"), new JsonObject().put("type", "text").put("text", 5),
        new JsonArray().add(new JsonObject().put("type", "image_url").put("image_url", "http://127.0.0.1:1/x")),
        new JsonObject().put("include_usage", "yes")));
    values.add(nested(200));
    return values;
  }

  private static Object nested(int depth) {
    Object value = "bottom";
    for (int i = 0; i < depth; i++) {
      value = i % 2 == 0 ? new JsonArray().add(value) : new JsonObject().put("k", value);
    }
    return value;
  }

  /** Each field of {@code base} set to each nasty value, plus the field removed, and null. */
  private static List<JsonObject> wrongTypes(JsonObject base, List<String> fields) {
    List<JsonObject> bodies = new ArrayList<>();
    for (String field : fields) {
      bodies.add(base.copy().putNull(field));
      JsonObject without = base.copy();
      without.remove(field);
      bodies.add(without);
      for (Object value : nastyValues()) {
        bodies.add(base.copy().put(field, value));
      }
    }
    return bodies;
  }

  private static final String BAD_CHUNK =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n";
  /** The only inputs that may get a closed connection instead of an answer. */
  private static final java.util.Set<String> BROKEN_BODY_FRAMING = java.util.Set.of(BAD_CHUNK);

  private static final String HTTP_9 = "GET /v1/models HTTP/9.9\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  private static final String HTTP_2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  private static final java.util.Set<String> NOT_HTTP_1 = java.util.Set.of(HTTP_9, HTTP_2_PREFACE);

  private static List<byte[]> rawRequests() {
    String body = validChat();
    int length = body.getBytes(StandardCharsets.UTF_8).length;
    List<String> requests = new ArrayList<>(List.of(
        "POST /v1/chat/completions HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: " + length
            + "\r\nConnection: close\r\n\r\n" + body,
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 7\r\nConnection: close\r\n\r\n12345",
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: -1\r\nConnection: close\r\n\r\n",
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\nConnection: close\r\n\r\n",
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: 99999999999999999999\r\nConnection: close\r\n\r\n",
        BAD_CHUNK,
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\nConnection: close\r\n\r\n0\r\n\r\n",
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            + Integer.toHexString(length) + "\r\n" + body + "\r\n0\r\n\r\n",
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\nConnection: close\r\n\r\nabcd",
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nBroken header line\r\nConnection: close\r\n\r\n",
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nBad Name: v\r\nConnection: close\r\n\r\n",
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nX-A: a\r\n folded\r\nConnection: close\r\n\r\n",
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nX-Null: a\u0000b\r\nConnection: close\r\n\r\n",
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + "k".repeat(8000)
            + "\r\nConnection: close\r\n\r\n",
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nx-request-id: " + "r".repeat(4000) + "\r\nContent-Length: "
            + length + "\r\nConnection: close\r\n\r\n" + body,
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\ntraceparent: 00-zzzz-yyyy-01\r\nContent-Length: " + length
            + "\r\nConnection: close\r\n\r\n" + body,
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nx-session-id: " + "\u00e9".repeat(200) + "\r\nContent-Length: "
            + length + "\r\nConnection: close\r\n\r\n" + body,
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: " + length
            + "\r\nConnection: close\r\n\r\n" + body,
        "POST /v1/chat/completions HTTP/1.0\r\nContent-Length: " + length + "\r\n\r\n" + body,
        "DELETE /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "PUT /v1/models HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        "BREW /v1/models HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\nConnection: close\r\n\r\n",
        "GET http://169.254.169.254/latest/meta-data HTTP/1.1\r\nHost: 169.254.169.254\r\nConnection: close\r\n\r\n",
        "GET /v1/../admin/../../etc/passwd HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "GET //v1//models HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "GET /v1/models%00.json HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "GET /%2e%2e/%2e%2e/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "GET /v1/models?x=%zz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "GET /v1/mod\u00e9ls HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "GET * HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        HTTP_9,
        "GET /v1/models\r\n\r\n",
        HTTP_2_PREFACE,
        "\r\n\r\nGET /v1/models HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "GET /v1/models HTTP/1.1\nHost: x\nConnection: close\n\n",
        "\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003 tls hello to a plain port\r\n\r\n"));
    StringBuilder manyHeaders = new StringBuilder("GET /v1/models HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (int i = 0; i < 3000; i++) {
      manyHeaders.append("X-").append(i).append(": v\r\n");
    }
    requests.add(manyHeaders.append("\r\n").toString());
    List<byte[]> bytes = new ArrayList<>();
    for (String request : requests) {
      bytes.add(request.getBytes(StandardCharsets.ISO_8859_1));
    }
    return bytes;
  }

  private static String validChat() {
    return "{\"model\":\"fuzz-llm\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}],\"max_tokens\":2}";
  }

  private static String validCompletion() {
    return "{\"model\":\"fuzz-llm\",\"prompt\":\"hello\",\"max_tokens\":2}";
  }

  private static long usedHeapAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      // Time for the collector's concurrent work to settle before the heap is read.
      Thread.sleep(100);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
