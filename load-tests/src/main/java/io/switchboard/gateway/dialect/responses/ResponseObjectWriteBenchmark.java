package io.switchboard.gateway.dialect.responses;

import io.switchboard.bench.jmh.SameOutput;
import io.switchboard.bench.jmh.SampleChat;
import io.switchboard.runtime.json.JsonText;
import io.switchboard.protocol.Usage;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.switchboard.bench.jmh.FastPathBenchmark;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;


/**
 * Writing the {@code response} objects of a Responses answer ({@code POST /v1/responses}, not stored): its fast path,
 * {@link ResponseObject#json} and {@code write} (the request's echoed fields written once per request, the rest
 * straight out), against what it replaced, the {@code response} tree built and encoded by Vert.x's codec
 * ({@code jackson}) or by {@link JsonText} ({@code tree}). Cases, each a new request's: a whole answer (one object),
 * and a stream's objects (the in-progress object of {@code response.created} and {@code response.in_progress}, then
 * the completed one). All three give the same bytes (checked in the set-up; ResponseObjectTest is the differential
 * test).
 *
 * <p>In this package to reach {@link ResponseObject}, which is package-private. Run:
 * {@code load-tests/bin/chunk-write-bench}.
 */
public class ResponseObjectWriteBenchmark extends FastPathBenchmark {

  @Param({"responses-whole-answer", "responses-stream-objects"})
  public String answer;

  private static final String ID = "resp_69477e7a6f8244b827f26bfbbb16dd5c";
  private static final Usage USAGE = new Usage(41, 20, 32);

  private ResponsesRequest request;
  private ResponseOutput output;
  private boolean stream;

  @Setup
  public void setUp() {
    stream = switch (answer) {
      case "responses-whole-answer" -> false;
      case "responses-stream-objects" -> true;
      default -> throw new IllegalArgumentException("unknown answer " + answer);
    };
    request = ResponsesRequest.read(new JsonObject(new JsonObject().put("model", SampleChat.MODEL)
        .put("instructions", "You are a helpful assistant. Answer in one or two sentences.")
        .put("input", "What is the capital of France, and what is it known for?")
        .put("max_output_tokens", 256).put("temperature", 0.7).put("store", false).encode()));
    output = new ResponseOutput(ID, null);
    output.add(SampleChat.TWENTY_TOKENS, null);
    output.finish("completed");
    // One shape for the check: a shape's created_at is its construction's second, which may differ between two.
    ResponseObject shape = new ResponseObject(ID, request);
    SameOutput.require(answer + " (tree)", jackson(shape), tree(shape));
    SameOutput.require(answer, jackson(shape), fast(shape));
  }

  @Benchmark
  public Buffer jackson() {
    return jackson(new ResponseObject(ID, request));
  }

  @Benchmark
  public Buffer tree() {
    return tree(new ResponseObject(ID, request));
  }

  @Benchmark
  public Buffer fast() {
    return fast(new ResponseObject(ID, request));
  }

  private Buffer jackson(ResponseObject shape) {
    if (!stream) {
      return shape.build("completed", output.items(), USAGE, null).toBuffer();
    }
    // As the stream's events were written before: the in-progress tree encoded for both events that carry it.
    JsonObject inProgress = shape.build("in_progress", new JsonArray(), null, null);
    return Buffer.buffer().appendBuffer(inProgress.toBuffer()).appendBuffer(inProgress.toBuffer())
        .appendBuffer(shape.build("completed", output.items(), USAGE, null).toBuffer());
  }

  private Buffer tree(ResponseObject shape) {
    if (!stream) {
      return JsonText.toBuffer(shape.build("completed", output.items(), USAGE, null));
    }
    JsonObject inProgress = shape.build("in_progress", new JsonArray(), null, null);
    return Buffer.buffer().appendBuffer(JsonText.toBuffer(inProgress)).appendBuffer(JsonText.toBuffer(inProgress))
        .appendBuffer(JsonText.toBuffer(shape.build("completed", output.items(), USAGE, null)));
  }

  /** As ResponsesAnswerWriter writes them when nothing is stored. */
  private Buffer fast(ResponseObject shape) {
    if (!stream) {
      return Buffer.buffer(shape.json("completed", output.itemsShared(), USAGE, null, null));
    }
    String inProgress = shape.json("in_progress", new JsonArray(), null, null, null);
    StringBuilder events = new StringBuilder(4 * inProgress.length()).append(inProgress).append(inProgress);
    shape.write(events, "completed", output.itemsShared(), USAGE, null, null);
    return Buffer.buffer(events.toString());
  }
}
