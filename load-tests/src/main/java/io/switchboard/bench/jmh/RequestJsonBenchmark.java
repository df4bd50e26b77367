package io.switchboard.bench.jmh;

import io.switchboard.runtime.json.JsonText;
import io.vertx.core.json.JsonObject;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;


/**
 * Writing a client's request body on to a worker or a backend, as the gateway does for every request on the gRPC
 * plane ({@code GrpcMessages}: {@link JsonText#text}) and a worker for every request to its backend
 * ({@code JsonText.buffer}, the same text in a buffer): {@code encode()} (Jackson) against {@link JsonText#text},
 * which writes the same text (checked in the set-up). Bodies, parsed as the gateway parses a client's: a streamed
 * chat of a system prompt and one question, and a 20-turn conversation with non-ASCII text.
 *
 * <p>Run: {@code load-tests/bin/json-bench}.
 */
public class RequestJsonBenchmark extends FastPathBenchmark {

  @Param({"request-chat", "request-20-turns"})
  public String body;

  private JsonObject json;

  @Setup
  public void setUp() {
    json = switch (body) {
      case "request-chat" -> SampleChat.requestBody();
      case "request-20-turns" -> SampleChat.conversationBody(20);
      default -> throw new IllegalArgumentException("unknown body " + body);
    };
    SameOutput.require(body, jackson(), fast());
  }

  @Benchmark
  public String jackson() {
    return json.encode();
  }

  @Benchmark
  public String fast() {
    return JsonText.text(json);
  }
}
