package io.switchboard.gateway.exchange;

import io.switchboard.gateway.plane.ChunkStream;
import io.switchboard.gateway.plane.RequestPlane;
import io.switchboard.gateway.plane.WorkerRefusedException;
import io.switchboard.gateway.registry.WorkerState;
import io.switchboard.protocol.Addresses;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.LoadReport;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.StreamChunk;
import io.switchboard.protocol.Usage;
import io.switchboard.protocol.WorkerDescriptor;
import io.switchboard.testsupport.Eventually;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.servicediscovery.Record;
import io.vertx.servicediscovery.ServiceDiscovery;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The three generative dialects (chat, Responses, Messages) over the real exchange and router, in front of a
 * scripted {@link RequestPlane}: its two workers of one model play chunk sequences the mocker cannot produce on
 * demand (tool calls streamed in pieces, reasoning, a failure mid-stream), and it records every request it is offered
 * and every cancel. The gateway is assembled here (as {@link NativeFormRoutingTest} does) because GatewayVerticle
 * builds its plane itself; the routes, handlers, dialects, listeners and admin handler are the production classes.
 * Each request carries its own x-request-id, and the plane plays the scripts queued for that id, one per attempt.
 */
class DialectsOverScriptedPlaneTest {

  private static final String MODEL = "scripted-llm";
  private static final List<String> WORKERS = List.of("worker-a", "worker-b");
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private static final AtomicInteger IDS = new AtomicInteger();

  private static Vertx vertx;
  private static ScriptedPlane plane;
  private static ScriptedGateway gateway;
  private static ServiceDiscovery discovery;
  private static long reportTimer;
  private static int port;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    plane = new ScriptedPlane();
    gateway = new ScriptedGateway(plane);
    vertx.deployVerticle(gateway).await(30, TimeUnit.SECONDS);
    port = gateway.server.actualPort();
    discovery = ServiceDiscovery.create(vertx);
    for (String worker : WORKERS) {
      WorkerDescriptor descriptor = new WorkerDescriptor(worker, "node-" + worker, MODEL, "scripted", 4, 8192,
          new JsonObject());
      discovery.publish(new Record().setType(WorkerDescriptor.RECORD_TYPE).setName(descriptor.recordName())
          .setLocation(descriptor.endpoints()).setMetadata(descriptor.toJson())).await(10, TimeUnit.SECONDS);
    }
    reportLoad();
    reportTimer = vertx.setPeriodic(250, id -> reportLoad());
    Eventually.within(ofSeconds(10), "both scripted workers routable", () -> gateway.onContext(() ->
        (int) gateway.registry.workersOf(MODEL, RequestKind.CHAT).stream().filter(WorkerState::routable).count()) == 2);
  }

  private static void reportLoad() {
    for (String worker : WORKERS) {
      vertx.eventBus().publish(Addresses.LOAD_REPORTS, new LoadReport(worker, "node-" + worker, MODEL, 0, 0, 4, 4,
          false, System.currentTimeMillis()).toJson());
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (vertx != null) {
      vertx.cancelTimer(reportTimer);
      if (discovery != null) {
        discovery.close();
      }
      vertx.close().await(20, TimeUnit.SECONDS);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // 1. Tool round trip
  // ---------------------------------------------------------------------------------------------------------------

  @Test
  void chatToolRoundTrip() throws Exception {
    for (boolean stream : List.of(true, false)) {
      String id = nextId("chat-tool");
      plane.script(id, toolCallScript());
      HttpResponse<String> response = post("/v1/chat/completions", id, chatBody("What is the weather in Paris?",
          stream).put("tools", chatTools()));
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      JsonObject call;
      String finishReason;
      if (stream) {
        List<Sse> events = sse(response.body());
        assertThat(events.get(events.size() - 1).data()).isEqualTo("[DONE]");
        List<JsonObject> toolDeltas = new ArrayList<>();
        finishReason = null;
        for (Sse event : events.subList(0, events.size() - 1)) {
          JsonObject choice = event.json().getJsonArray("choices").isEmpty() ? null
              : event.json().getJsonArray("choices").getJsonObject(0);
          if (choice != null && choice.getJsonObject("delta", new JsonObject()).containsKey("tool_calls")) {
            toolDeltas.add(choice.getJsonObject("delta").getJsonArray("tool_calls").getJsonObject(0));
          }
          if (choice != null && choice.getString("finish_reason") != null) {
            finishReason = choice.getString("finish_reason");
          }
        }
        assertThat(toolDeltas).as("the call streamed as the backend sent it: head, then argument pieces").hasSize(3);
        assertThat(toolDeltas.get(0).getString("id")).isEqualTo("call_abc");
        assertThat(toolDeltas.get(0).getJsonObject("function").getString("name")).isEqualTo("get_weather");
        assertThat(toolDeltas.get(1).getJsonObject("function").getString("arguments")).isEqualTo("{\"city\":");
        assertThat(toolDeltas.get(2).getJsonObject("function").getString("arguments")).isEqualTo("\"Paris\"}");
        call = toolDeltas.get(0).copy();
        call.getJsonObject("function").put("arguments", "{\"city\":\"Paris\"}");
        call.remove("index");
      } else {
        JsonObject choice = new JsonObject(response.body()).getJsonArray("choices").getJsonObject(0);
        finishReason = choice.getString("finish_reason");
        JsonArray calls = choice.getJsonObject("message").getJsonArray("tool_calls");
        assertThat(calls).hasSize(1);
        call = calls.getJsonObject(0);
        assertThat(call.getString("id")).isEqualTo("call_abc");
        assertThat(call.getString("type")).isEqualTo("function");
        assertThat(call.getJsonObject("function").getString("name")).isEqualTo("get_weather");
        assertThat(call.getJsonObject("function").getString("arguments")).isEqualTo("{\"city\":\"Paris\"}");
        assertThat(new JsonObject(response.body()).getJsonObject("usage").getJsonObject("prompt_tokens_details")
            .getInteger("cached_tokens")).isEqualTo(4);
      }
      assertThat(finishReason).isEqualTo("tool_calls");

      String back = nextId("chat-tool-result");
      plane.script(back, textScript("It is 18C."));
      JsonObject second = new JsonObject().put("model", MODEL).put("stream", stream).put("tools", chatTools())
          .put("messages", new JsonArray()
              .add(user("What is the weather in Paris?"))
              .add(new JsonObject().put("role", "assistant").putNull("content")
                  .put("tool_calls", new JsonArray().add(call)))
              .add(new JsonObject().put("role", "tool").put("tool_call_id", "call_abc").put("content", "18C")));
      HttpResponse<String> answered = post("/v1/chat/completions", back, second);
      assertThat(answered.statusCode()).as(answered.body()).isEqualTo(200);
      assertToolResultReachedWorker(plane.onlyOffer(back).request(), "18C");
    }
  }

  @Test
  void responsesToolRoundTrip() throws Exception {
    for (boolean stream : List.of(true, false)) {
      String id = nextId("responses-tool");
      plane.script(id, toolCallScript());
      JsonObject first = new JsonObject().put("model", MODEL).put("stream", stream)
          .put("input", "What is the weather in Paris?").put("tools", responsesTools());
      HttpResponse<String> response = post("/v1/responses", id, first);
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      JsonObject completed;
      if (stream) {
        List<Sse> events = sse(response.body());
        JsonObject added = events.stream().filter(e -> "response.output_item.added".equals(e.event()))
            .map(e -> e.json().getJsonObject("item")).filter(i -> "function_call".equals(i.getString("type")))
            .findFirst().orElseThrow();
        assertThat(added.getString("call_id")).isEqualTo("call_abc");
        assertThat(added.getString("name")).isEqualTo("get_weather");
        List<String> deltas = events.stream()
            .filter(e -> "response.function_call_arguments.delta".equals(e.event()))
            .map(e -> e.json().getString("delta")).toList();
        assertThat(deltas).containsExactly("{\"city\":", "\"Paris\"}");
        JsonObject done = events.stream().filter(e -> "response.function_call_arguments.done".equals(e.event()))
            .findFirst().orElseThrow().json();
        assertThat(done.getString("arguments")).isEqualTo("{\"city\":\"Paris\"}");
        Sse last = events.get(events.size() - 1);
        assertThat(last.event()).isEqualTo("response.completed");
        assertSequenceNumbersCount(events);
        completed = last.json().getJsonObject("response");
      } else {
        completed = new JsonObject(response.body());
      }
      assertThat(completed.getString("status")).isEqualTo("completed");
      JsonObject item = completed.getJsonArray("output").stream().map(JsonObject.class::cast)
          .filter(i -> "function_call".equals(i.getString("type"))).findFirst().orElseThrow();
      assertThat(item.getString("call_id")).isEqualTo("call_abc");
      assertThat(item.getString("name")).isEqualTo("get_weather");
      assertThat(item.getString("arguments")).isEqualTo("{\"city\":\"Paris\"}");
      assertThat(item.getString("status")).isEqualTo("completed");
      assertThat(completed.getJsonObject("usage").getJsonObject("input_tokens_details").getInteger("cached_tokens"))
          .isEqualTo(4);

      // Streamed: chained to the stored response; whole: the conversation sent again as input items.
      String back = nextId("responses-tool-result");
      plane.script(back, textScript("It is 18C."));
      JsonObject output = new JsonObject().put("type", "function_call_output").put("call_id", "call_abc")
          .put("output", "18C");
      JsonObject second = new JsonObject().put("model", MODEL).put("stream", stream).put("tools", responsesTools());
      if (stream) {
        second.put("previous_response_id", completed.getString("id")).put("input", new JsonArray().add(output));
      } else {
        second.put("input", new JsonArray()
            .add(new JsonObject().put("role", "user").put("content", "What is the weather in Paris?"))
            .add(new JsonObject().put("type", "function_call").put("call_id", "call_abc").put("name", "get_weather")
                .put("arguments", "{\"city\":\"Paris\"}"))
            .add(output));
      }
      HttpResponse<String> answered = post("/v1/responses", back, second);
      assertThat(answered.statusCode()).as(answered.body()).isEqualTo(200);
      assertToolResultReachedWorker(plane.onlyOffer(back).request(), "18C");
    }
  }

  @Test
  void messagesToolRoundTrip() throws Exception {
    for (boolean stream : List.of(true, false)) {
      String id = nextId("messages-tool");
      plane.script(id, toolCallScript());
      JsonObject first = messagesBody("What is the weather in Paris?", stream).put("tools", messagesTools());
      HttpResponse<String> response = post("/v1/messages", id, first);
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      JsonObject toolUse;
      if (stream) {
        List<Sse> events = sse(response.body());
        toolUse = events.stream().filter(e -> "content_block_start".equals(e.event()))
            .map(e -> e.json().getJsonObject("content_block")).filter(b -> "tool_use".equals(b.getString("type")))
            .findFirst().orElseThrow();
        int block = events.stream().filter(e -> "content_block_start".equals(e.event())
                && "tool_use".equals(e.json().getJsonObject("content_block").getString("type")))
            .findFirst().orElseThrow().json().getInteger("index");
        List<String> partial = events.stream().filter(e -> "content_block_delta".equals(e.event())
                && "input_json_delta".equals(e.json().getJsonObject("delta").getString("type")))
            .peek(e -> assertThat(e.json().getInteger("index")).isEqualTo(block))
            .map(e -> e.json().getJsonObject("delta").getString("partial_json")).toList();
        assertThat(partial).containsExactly("{\"city\":", "\"Paris\"}");
        assertThat(new JsonObject(String.join("", partial))).isEqualTo(new JsonObject().put("city", "Paris"));
        JsonObject messageDelta = events.stream().filter(e -> "message_delta".equals(e.event())).findFirst()
            .orElseThrow().json();
        assertThat(messageDelta.getJsonObject("delta").getString("stop_reason")).isEqualTo("tool_use");
        assertThat(messageDelta.getJsonObject("usage").getInteger("cache_read_input_tokens")).isEqualTo(4);
        assertThat(messageDelta.getJsonObject("usage").getInteger("input_tokens")).isEqualTo(8);
        assertThat(events.get(events.size() - 1).event()).isEqualTo("message_stop");
      } else {
        JsonObject message = new JsonObject(response.body());
        assertThat(message.getString("stop_reason")).isEqualTo("tool_use");
        toolUse = message.getJsonArray("content").stream().map(JsonObject.class::cast)
            .filter(b -> "tool_use".equals(b.getString("type"))).findFirst().orElseThrow();
        assertThat(toolUse.getJsonObject("input")).isEqualTo(new JsonObject().put("city", "Paris"));
        assertThat(message.getJsonObject("usage").getInteger("cache_read_input_tokens")).isEqualTo(4);
        assertThat(message.getJsonObject("usage").getInteger("input_tokens")).isEqualTo(8);
      }
      assertThat(toolUse.getString("id")).isEqualTo("call_abc");
      assertThat(toolUse.getString("name")).isEqualTo("get_weather");

      String back = nextId("messages-tool-result");
      plane.script(back, textScript("It is 18C."));
      JsonObject second = new JsonObject().put("model", MODEL).put("max_tokens", 64).put("stream", stream)
          .put("tools", messagesTools())
          .put("messages", new JsonArray()
              .add(user("What is the weather in Paris?"))
              .add(new JsonObject().put("role", "assistant").put("content", new JsonArray()
                  .add(new JsonObject().put("type", "tool_use").put("id", "call_abc").put("name", "get_weather")
                      .put("input", new JsonObject().put("city", "Paris")))))
              .add(new JsonObject().put("role", "user").put("content", new JsonArray()
                  .add(new JsonObject().put("type", "tool_result").put("tool_use_id", "call_abc")
                      .put("content", "18C")))));
      HttpResponse<String> answered = post("/v1/messages", back, second);
      assertThat(answered.statusCode()).as(answered.body()).isEqualTo(200);
      assertToolResultReachedWorker(plane.onlyOffer(back).request(), "18C");
    }
  }

  /** The worker got the result as a chat tool message answering call_abc, after the assistant turn that made it. */
  private static void assertToolResultReachedWorker(GenerateRequest request, String result) {
    JsonArray messages = request.body().getJsonArray("messages");
    int tool = -1;
    for (int i = 0; i < messages.size(); i++) {
      if ("tool".equals(messages.getJsonObject(i).getString("role"))) {
        tool = i;
      }
    }
    assertThat(tool).as("a tool message in %s", messages.encode()).isGreaterThan(0);
    JsonObject toolMessage = messages.getJsonObject(tool);
    assertThat(toolMessage.getString("tool_call_id")).isEqualTo("call_abc");
    assertThat(toolMessage.getString("content")).isEqualTo(result);
    JsonObject assistant = messages.getJsonObject(tool - 1);
    assertThat(assistant.getString("role")).as(messages.encode()).isEqualTo("assistant");
    JsonObject call = assistant.getJsonArray("tool_calls").getJsonObject(0);
    assertThat(call.getString("id")).isEqualTo("call_abc");
    assertThat(call.getJsonObject("function").getString("name")).isEqualTo("get_weather");
    assertThat(new JsonObject(call.getJsonObject("function").getString("arguments")))
        .isEqualTo(new JsonObject().put("city", "Paris"));
    assertThat(request.kind()).isEqualTo(RequestKind.CHAT);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // 2. Reasoning
  // ---------------------------------------------------------------------------------------------------------------

  @Test
  void reasoningIsAResponsesReasoningItemAndIsNotRenderedInMessages() throws Exception {
    for (boolean stream : List.of(true, false)) {
      String id = nextId("responses-reasoning");
      plane.script(id, reasoningScript());
      HttpResponse<String> response = post("/v1/responses", id, new JsonObject().put("model", MODEL)
          .put("stream", stream).put("input", "hello"));
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      JsonObject completed;
      if (stream) {
        List<Sse> events = sse(response.body());
        assertThat(events.stream().filter(e -> "response.reasoning_text.delta".equals(e.event()))
            .map(e -> e.json().getString("delta")).toList()).containsExactly("Let me ", "think.");
        assertThat(events.stream().filter(e -> "response.reasoning_text.done".equals(e.event()))
            .map(e -> e.json().getString("text")).toList()).containsExactly("Let me think.");
        assertThat(events.stream().filter(e -> "response.output_text.delta".equals(e.event()))
            .map(e -> e.json().getString("delta")).toList()).containsExactly("Hi", " there");
        assertSequenceNumbersCount(events);
        completed = events.get(events.size() - 1).json().getJsonObject("response");
      } else {
        completed = new JsonObject(response.body());
      }
      JsonArray output = completed.getJsonArray("output");
      assertThat(output).hasSize(2);
      assertThat(output.getJsonObject(0).getString("type")).isEqualTo("reasoning");
      assertThat(output.getJsonObject(0).getJsonArray("content").getJsonObject(0).getString("text"))
          .isEqualTo("Let me think.");
      assertThat(output.getJsonObject(1).getString("type")).isEqualTo("message");
      assertThat(output.getJsonObject(1).getJsonArray("content").getJsonObject(0).getString("text"))
          .isEqualTo("Hi there");

      String messagesId = nextId("messages-reasoning");
      plane.script(messagesId, reasoningScript());
      HttpResponse<String> messages = post("/v1/messages", messagesId, messagesBody("hello", stream));
      assertThat(messages.statusCode()).as(messages.body()).isEqualTo(200);
      assertThat(messages.body()).as("reasoning is not rendered in Messages (MessagesFormat's documented choice)")
          .doesNotContain("Let me").doesNotContain("think.").doesNotContain("thinking");
      if (stream) {
        List<Sse> events = sse(messages.body());
        assertThat(events.stream().filter(e -> "content_block_start".equals(e.event()))
            .map(e -> e.json().getJsonObject("content_block").getString("type")).toList()).containsExactly("text");
        assertThat(textOf("messages", events)).isEqualTo("Hi there");
        assertThat(events.get(events.size() - 1).event()).isEqualTo("message_stop");
      } else {
        JsonArray content = new JsonObject(messages.body()).getJsonArray("content");
        assertThat(content).hasSize(1);
        assertThat(content.getJsonObject(0).getString("text")).isEqualTo("Hi there");
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // 3. Migration
  // ---------------------------------------------------------------------------------------------------------------

  @Test
  void aStreamCutMidAnswerContinuesOnTheOtherWorkerInEveryDialect() throws Exception {
    for (String dialect : DIALECTS) {
      for (boolean stream : List.of(true, false)) {
        String id = nextId(dialect + "-migrate");
        plane.script(id, failingAfter("The ", "quick ", "brown "), continuing("fox."));
        HttpResponse<String> response = post(path(dialect), id, helloBody(dialect, stream));
        String what = dialect + (stream ? " streamed" : " whole") + ": " + response.body();
        assertThat(response.statusCode()).as(what).isEqualTo(200);

        List<ScriptedPlane.Offer> offers = plane.offersOf(id);
        assertThat(offers).as(what).hasSize(2);
        assertThat(offers.get(1).workerId()).as("continued on the other worker").isNotEqualTo(offers.get(0).workerId());
        assertThat(offers.get(0).request().resume().isEmpty()).isTrue();
        assertThat(offers.get(1).request().resume().text()).as("the text so far").isEqualTo("The quick brown ");
        assertThat(offers.get(1).request().resume().completionTokens()).isEqualTo(3);
        assertThat(offers.get(1).request().nativeForm()).isNull();

        if (stream) {
          List<Sse> events = sse(response.body());
          assertThat(textOf(dialect, events)).as(what).isEqualTo("The quick brown fox.");
          assertNormalEnd(dialect, events, what);
          assertThat(usageOf(dialect, events)).as(what).isEqualTo(4);
        } else {
          JsonObject body = new JsonObject(response.body());
          assertThat(wholeText(dialect, body)).as(what).isEqualTo("The quick brown fox.");
          assertThat(wholeCompletionTokens(dialect, body)).as(what).isEqualTo(4);
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // 4. No worker can continue
  // ---------------------------------------------------------------------------------------------------------------

  @Test
  void whenNoWorkerCanContinueTheStreamEndsWithAnErrorInEveryDialect() throws Exception {
    for (String dialect : DIALECTS) {
      String id = nextId(dialect + "-nocontinue");
      plane.script(id, failingAfter("The ", "quick ", "brown "), failingAfter("fox"));
      HttpResponse<String> response = post(path(dialect), id, helloBody(dialect, true));
      String what = dialect + ": " + response.body();
      assertThat(response.statusCode()).as("the head went out with the first token").isEqualTo(200);
      List<ScriptedPlane.Offer> offers = plane.offersOf(id);
      assertThat(offers).hasSize(2);
      String lastWorker = offers.get(1).workerId();
      List<Sse> events = sse(response.body());
      assertThat(textOf(dialect, events)).as(what).isEqualTo("The quick brown fox");
      Sse last = events.get(events.size() - 1);
      switch (dialect) {
        case "chat" -> {
          assertThat(events).as(what).noneMatch(e -> "[DONE]".equals(e.data()));
          JsonObject error = last.json().getJsonObject("error");
          assertThat(error).as(what).isNotNull();
          assertThat(error.getString("message")).contains(lastWorker).contains(id);
        }
        case "responses" -> {
          assertThat(last.event()).as(what).isEqualTo("response.failed");
          assertThat(events).noneMatch(e -> "response.completed".equals(e.event()));
          JsonObject failed = last.json().getJsonObject("response");
          assertThat(failed.getString("status")).isEqualTo("failed");
          assertThat(failed.getJsonObject("error").getString("code")).isEqualTo("worker_failed");
          assertThat(failed.getJsonObject("error").getString("message")).contains(lastWorker).contains(id);
        }
        default -> {
          assertThat(last.event()).as(what).isEqualTo("error");
          assertThat(events).noneMatch(e -> "message_stop".equals(e.event()));
          assertThat(last.json().getJsonObject("error").getString("type")).isEqualTo("api_error");
          assertThat(last.json().getJsonObject("error").getString("message")).contains(lastWorker).contains(id);
        }
      }
    }
  }

  @Test
  void whenNoWorkerCanContinueAWholeAnswerIsAnErrorInTheDialectsShape() throws Exception {
    for (String dialect : DIALECTS) {
      String id = nextId(dialect + "-nocontinue-whole");
      plane.script(id, failingAfter("The "), failingAfter("quick"));
      HttpResponse<String> response = post(path(dialect), id, helloBody(dialect, false));
      String what = dialect + ": " + response.body();
      assertThat(response.statusCode()).as(what).isEqualTo(502);
      String lastWorker = plane.offersOf(id).get(1).workerId();
      JsonObject body = new JsonObject(response.body());
      if (dialect.equals("messages")) {
        assertThat(body.getString("type")).as(what).isEqualTo("error");
        assertThat(body.getJsonObject("error").getString("type")).isEqualTo("api_error");
      } else {
        assertThat(body.getJsonObject("error").getString("code")).as(what).isEqualTo("worker_failed");
      }
      assertThat(body.getJsonObject("error").getString("message")).contains(lastWorker).contains(id);
      String sample = "switchboard_requests_total{endpoint=\"" + ENDPOINTS.get(dialect) + "\",model=\"" + MODEL
          + "\",status=\"502\"}";
      Eventually.within(ofSeconds(10), "a sample " + sample, () -> get("/metrics").body().contains(sample));
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // 5 and 7b. Client hang-up mid-stream; /admin/requests during an open stream
  // ---------------------------------------------------------------------------------------------------------------

  @Test
  void anOpenStreamIsListedWithItsEndpointAndAHangUpCancelsIt() throws Exception {
    for (String dialect : DIALECTS) {
      String id = nextId(dialect + "-hangup");
      plane.script(id, new Script(r -> List.of(StreamChunk.delta(0, "Once ", 1)), true));
      try (RawStream client = new RawStream(port, path(dialect), id, helloBody(dialect, true).encode())) {
        assertThat(client.status).isEqualTo(200);
        client.readUntil("Once ");
        ScriptedPlane.Offer offer = plane.onlyOffer(id);

        // The worker streams on while the client reads.
        offer.stream().push(StreamChunk.delta(1, "upon ", 1));
        client.readUntil("upon ");

        HttpResponse<String> admin = get("/admin/requests");
        JsonObject listed = new JsonObject(admin.body()).getJsonArray("requests").stream()
            .map(JsonObject.class::cast).filter(r -> id.equals(r.getString("requestId"))).findFirst().orElseThrow();
        assertThat(listed.getString("endpoint")).isEqualTo(ENDPOINTS.get(dialect));
        assertThat(listed.getString("workerId")).isEqualTo(offer.workerId());
        assertThat(listed.getString("phase")).isEqualTo("generating");
        assertThat(listed.getInteger("completionTokensSoFar")).isEqualTo(2);
        assertThat(offer.stream().cancelReason()).isNull();
      }
      ScriptedPlane.Offer offer = plane.onlyOffer(id);
      Eventually.within(ofSeconds(10), dialect + ": the hang-up cancels the stream",
          () -> offer.stream().cancelReason() != null);
      assertThat(offer.stream().cancelReason()).isEqualTo("client disconnected");
      Eventually.within(ofSeconds(10), dialect + ": no longer listed",
          () -> !get("/admin/requests").body().contains(id));
    }
  }

  @Test
  void aWholeAnswerWaitedForIsCancelledWhenTheClientHangsUp() throws Exception {
    for (String dialect : DIALECTS) {
      String id = nextId(dialect + "-hangup-whole");
      plane.script(id, new Script(r -> List.of(StreamChunk.delta(0, "Once ", 1)), true));
      try (Socket client = RawStream.send(port, path(dialect), id, helloBody(dialect, false).encode())) {
        Eventually.within(ofSeconds(10), dialect + ": offered", () -> plane.offersOf(id).size() == 1);
        ScriptedPlane.Offer offer = plane.onlyOffer(id);
        Eventually.within(ofSeconds(10), dialect + ": generating",
            () -> listed(id) != null && listed(id).getInteger("completionTokensSoFar") == 1);
        assertThat(offer.stream().cancelReason()).isNull();
      }
      ScriptedPlane.Offer offer = plane.onlyOffer(id);
      Eventually.within(ofSeconds(10), dialect + ": the hang-up cancels the stream",
          () -> offer.stream().cancelReason() != null);
      assertThat(offer.stream().cancelReason()).isEqualTo("client disconnected");
    }
  }

  @Test
  void aMigratedOpenStreamIsListedOnItsSecondWorker() throws Exception {
    for (String dialect : DIALECTS) {
      String id = nextId(dialect + "-migrated-open");
      plane.script(id, failingAfter("The ", "quick "), new Script(r -> List.of(StreamChunk.delta(0, "fox", 1)), true));
      try (RawStream client = new RawStream(port, path(dialect), id, helloBody(dialect, true).encode())) {
        client.readUntil("fox");
        List<ScriptedPlane.Offer> offers = plane.offersOf(id);
        assertThat(offers).hasSize(2);
        JsonObject listed = listed(id);
        assertThat(listed).as("listed in /admin/requests").isNotNull();
        assertThat(listed.getString("endpoint")).isEqualTo(ENDPOINTS.get(dialect));
        assertThat(listed.getString("workerId")).isEqualTo(offers.get(1).workerId());
        assertThat(listed.getInteger("migrations")).isEqualTo(1);
        assertThat(listed.getInteger("workersTried")).isEqualTo(2);
        assertThat(listed.getInteger("completionTokensSoFar")).isEqualTo(3);
        offers.get(1).stream().push(StreamChunk.last(1, "", 0, "stop", new Usage(5, 3)));
        client.readUntil(dialect.equals("chat") ? "[DONE]" : dialect.equals("responses") ? "response.completed"
            : "message_stop");
      }
    }
  }

  /**
   * A reasoning model streams reasoning_content before its text; a worker failing after it is continued elsewhere
   * like any stream (only tool-call and logprob deltas cannot be continued).
   */
  @Test
  void aReasoningStreamCutMidAnswerContinuesOnTheOtherWorker() throws Exception {
    for (String dialect : DIALECTS) {
      String id = nextId(dialect + "-migrate-reasoning");
      plane.script(id, new Script(r -> List.of(StreamChunk.delta(0, "", 1, reasoning("Hmm.")),
          StreamChunk.delta(1, "The ", 1), StreamChunk.failure(2, new GenerateError(GenerateError.Code.ENGINE_FAILED,
              "backend connection reset", true, null))), false), continuing("fox."));
      HttpResponse<String> response = post(path(dialect), id, helloBody(dialect, true));
      List<Sse> events = sse(response.body());
      assertThat(plane.offersOf(id)).as(dialect + ": " + response.body()).hasSize(2);
      assertThat(textOf(dialect, events)).isEqualTo("The fox.");
      assertNormalEnd(dialect, events, dialect + ": " + response.body());
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // 6. Same prompt, same routing key
  // ---------------------------------------------------------------------------------------------------------------

  @Test
  void theSameQuestionInEveryDialectIsTheSamePrompt() throws Exception {
    List<String> prompts = new ArrayList<>();
    for (String dialect : DIALECTS) {
      String id = nextId(dialect + "-prompt");
      plane.script(id, textScript("Hello!"));
      HttpResponse<String> response = post(path(dialect), id, helloBody(dialect, false));
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      prompts.add(plane.onlyOffer(id).request().prompt());
    }
    assertThat(prompts.get(0)).isEqualTo("user: hello\n");
    assertThat(prompts).as("chat, responses, messages").containsOnly(prompts.get(0));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // 7a. Metrics by dialect
  // ---------------------------------------------------------------------------------------------------------------

  @Test
  void requestsAreCountedByEndpoint() throws Exception {
    for (String dialect : DIALECTS) {
      String id = nextId(dialect + "-metrics");
      plane.script(id, textScript("Hello!"));
      assertThat(post(path(dialect), id, helloBody(dialect, true)).statusCode()).isEqualTo(200);
    }
    for (String endpoint : ENDPOINTS.values()) {
      String sample = "switchboard_requests_total{endpoint=\"" + endpoint + "\",model=\"" + MODEL
          + "\",status=\"200\"}";
      Eventually.within(ofSeconds(10), "a sample " + sample, () -> get("/metrics").body().contains(sample));
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Scripts
  // ---------------------------------------------------------------------------------------------------------------

  /** A tool call streamed as OpenAI-compatible backends do: id, type and name first, then argument pieces. */
  private static Script toolCallScript() {
    return new Script(r -> List.of(
        StreamChunk.delta(0, "", 0, toolDelta(new JsonObject().put("index", 0).put("id", "call_abc")
            .put("type", "function").put("function", new JsonObject().put("name", "get_weather")
                .put("arguments", "")))),
        StreamChunk.delta(1, "", 1, toolDelta(new JsonObject().put("index", 0)
            .put("function", new JsonObject().put("arguments", "{\"city\":")))),
        StreamChunk.delta(2, "", 1, toolDelta(new JsonObject().put("index", 0)
            .put("function", new JsonObject().put("arguments", "\"Paris\"}")))),
        StreamChunk.last(3, "", 0, "tool_calls", new Usage(12, 2, 4))), false);
  }

  private static JsonObject toolDelta(JsonObject call) {
    return new JsonObject().put("delta", new JsonObject().put("tool_calls", new JsonArray().add(call)));
  }

  private static Script reasoningScript() {
    return new Script(r -> List.of(
        StreamChunk.delta(0, "", 1, reasoning("Let me ")),
        StreamChunk.delta(1, "", 1, reasoning("think.")),
        StreamChunk.delta(2, "Hi", 1),
        StreamChunk.delta(3, " there", 1),
        StreamChunk.last(4, "", 0, "stop", new Usage(5, 4))), false);
  }

  private static JsonObject reasoning(String text) {
    return new JsonObject().put("delta", new JsonObject().put("reasoning_content", text));
  }

  private static Script textScript(String text) {
    return new Script(r -> List.of(StreamChunk.delta(0, text, 1), StreamChunk.last(1, "", 0, "stop",
        new Usage(5, 1))), false);
  }

  /** One token per piece, then the engine fails (retryable). */
  private static Script failingAfter(String... pieces) {
    return new Script(r -> {
      List<StreamChunk> chunks = new ArrayList<>();
      for (String piece : pieces) {
        chunks.add(StreamChunk.delta(chunks.size(), piece, 1));
      }
      chunks.add(StreamChunk.failure(chunks.size(), new GenerateError(GenerateError.Code.ENGINE_FAILED,
          "backend connection reset", true, null)));
      return chunks;
    }, false);
  }

  /** A worker continuing a resumed request, as real engines report it: usage counts the resumed tokens too. */
  private static Script continuing(String piece) {
    return new Script(r -> List.of(StreamChunk.delta(0, piece, 1),
        StreamChunk.last(1, "", 0, "stop", new Usage(5, r.resume().completionTokens() + 1))), false);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Dialect helpers
  // ---------------------------------------------------------------------------------------------------------------

  private static final List<String> DIALECTS = List.of("chat", "responses", "messages");
  private static final Map<String, String> ENDPOINTS = Map.of("chat", "chat_completions", "responses", "responses",
      "messages", "messages");

  private static String path(String dialect) {
    return switch (dialect) {
      case "chat" -> "/v1/chat/completions";
      case "responses" -> "/v1/responses";
      default -> "/v1/messages";
    };
  }

  private static JsonObject helloBody(String dialect, boolean stream) {
    return switch (dialect) {
      case "chat" -> chatBody("hello", stream);
      case "responses" -> new JsonObject().put("model", MODEL).put("stream", stream).put("input", "hello");
      default -> messagesBody("hello", stream);
    };
  }

  private static JsonObject chatBody(String text, boolean stream) {
    JsonObject body = new JsonObject().put("model", MODEL).put("stream", stream)
        .put("messages", new JsonArray().add(user(text)));
    return stream ? body.put("stream_options", new JsonObject().put("include_usage", true)) : body;
  }

  private static JsonObject messagesBody(String text, boolean stream) {
    return new JsonObject().put("model", MODEL).put("max_tokens", 64).put("stream", stream)
        .put("messages", new JsonArray().add(user(text)));
  }

  private static JsonObject user(String text) {
    return new JsonObject().put("role", "user").put("content", text);
  }

  private static JsonObject weatherParameters() {
    return new JsonObject().put("type", "object").put("properties", new JsonObject()
        .put("city", new JsonObject().put("type", "string"))).put("required", new JsonArray().add("city"));
  }

  private static JsonArray chatTools() {
    return new JsonArray().add(new JsonObject().put("type", "function").put("function", new JsonObject()
        .put("name", "get_weather").put("parameters", weatherParameters())));
  }

  private static JsonArray responsesTools() {
    return new JsonArray().add(new JsonObject().put("type", "function").put("name", "get_weather")
        .put("parameters", weatherParameters()));
  }

  private static JsonArray messagesTools() {
    return new JsonArray().add(new JsonObject().put("name", "get_weather").put("description", "Weather now")
        .put("input_schema", weatherParameters()));
  }

  /** The streamed answer's text, in the dialect's events. */
  private static String textOf(String dialect, List<Sse> events) {
    StringBuilder text = new StringBuilder();
    for (Sse event : events) {
      switch (dialect) {
        case "chat" -> {
          if (!"[DONE]".equals(event.data()) && event.json().getJsonArray("choices") != null
              && !event.json().getJsonArray("choices").isEmpty()) {
            String content = event.json().getJsonArray("choices").getJsonObject(0)
                .getJsonObject("delta", new JsonObject()).getString("content");
            text.append(content == null ? "" : content);
          }
        }
        case "responses" -> {
          if ("response.output_text.delta".equals(event.event())) {
            text.append(event.json().getString("delta"));
          }
        }
        default -> {
          if ("content_block_delta".equals(event.event())
              && "text_delta".equals(event.json().getJsonObject("delta").getString("type"))) {
            text.append(event.json().getJsonObject("delta").getString("text"));
          }
        }
      }
    }
    return text.toString();
  }

  private static void assertNormalEnd(String dialect, List<Sse> events, String what) {
    Sse last = events.get(events.size() - 1);
    switch (dialect) {
      case "chat" -> {
        assertThat(last.data()).as(what).isEqualTo("[DONE]");
        assertThat(events).as(what).noneMatch(e -> !"[DONE]".equals(e.data()) && e.json().containsKey("error"));
      }
      case "responses" -> {
        assertThat(last.event()).as(what).isEqualTo("response.completed");
        assertThat(events).as(what).noneMatch(e -> "response.failed".equals(e.event()));
        JsonObject message = last.json().getJsonObject("response").getJsonArray("output").stream()
            .map(JsonObject.class::cast).filter(item -> "message".equals(item.getString("type"))).findFirst()
            .orElseThrow();
        assertThat(message.getJsonArray("content").getJsonObject(0).getString("text")).as(what)
            .isEqualTo(textOf(dialect, events));
        assertSequenceNumbersCount(events);
      }
      default -> {
        assertThat(last.event()).as(what).isEqualTo("message_stop");
        assertThat(events).as(what).noneMatch(e -> "error".equals(e.event()));
        assertThat(events.stream().filter(e -> "message_start".equals(e.event())).count()).isEqualTo(1);
      }
    }
  }

  /** Completion tokens the streamed answer reports. */
  private static int usageOf(String dialect, List<Sse> events) {
    for (Sse event : events) {
      if ("[DONE]".equals(event.data())) {
        continue;
      }
      JsonObject json = event.json();
      switch (dialect) {
        case "chat" -> {
          if (json.getJsonObject("usage") != null) {
            return json.getJsonObject("usage").getInteger("completion_tokens");
          }
        }
        case "responses" -> {
          if ("response.completed".equals(event.event())) {
            return json.getJsonObject("response").getJsonObject("usage").getInteger("output_tokens");
          }
        }
        default -> {
          if ("message_delta".equals(event.event())) {
            return json.getJsonObject("usage").getInteger("output_tokens");
          }
        }
      }
    }
    return -1;
  }

  private static String wholeText(String dialect, JsonObject body) {
    return switch (dialect) {
      case "chat" -> body.getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content");
      case "responses" -> body.getJsonArray("output").getJsonObject(0).getJsonArray("content").getJsonObject(0)
          .getString("text");
      default -> body.getJsonArray("content").getJsonObject(0).getString("text");
    };
  }

  private static int wholeCompletionTokens(String dialect, JsonObject body) {
    return switch (dialect) {
      case "chat" -> body.getJsonObject("usage").getInteger("completion_tokens");
      default -> body.getJsonObject("usage").getInteger("output_tokens");
    };
  }

  /** Responses events are numbered 0, 1, 2, ... with no gap or repeat. */
  private static void assertSequenceNumbersCount(List<Sse> events) {
    for (int i = 0; i < events.size(); i++) {
      assertThat(events.get(i).json().getInteger("sequence_number")).as(events.get(i).event()).isEqualTo(i);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // HTTP
  // ---------------------------------------------------------------------------------------------------------------

  private static String nextId(String what) {
    return what + "-" + IDS.incrementAndGet();
  }

  private static HttpResponse<String> post(String path, String requestId, JsonObject body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .POST(HttpRequest.BodyPublishers.ofString(body.encode()))
        .header("content-type", "application/json").header("x-request-id", requestId)
        .header("anthropic-version", "2023-06-01").timeout(java.time.Duration.ofSeconds(20)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The request as GET /admin/requests lists it, or null when it is not listed. */
  private static JsonObject listed(String requestId) {
    return new JsonObject(get("/admin/requests").body()).getJsonArray("requests").stream()
        .map(JsonObject.class::cast).filter(r -> requestId.equals(r.getString("requestId"))).findFirst().orElse(null);
  }

  private static HttpResponse<String> get(String path) {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET()
          .timeout(java.time.Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  /** One server-sent event: its name (null when it has none, as chat's) and its data. */
  record Sse(String event, String data) {
    JsonObject json() {
      return new JsonObject(data);
    }
  }

  private static List<Sse> sse(String body) {
    List<Sse> events = new ArrayList<>();
    for (String block : body.split("\n\n")) {
      String name = null;
      StringBuilder data = new StringBuilder();
      for (String line : block.split("\n")) {
        if (line.startsWith("event: ")) {
          name = line.substring(7);
        } else if (line.startsWith("data: ")) {
          data.append(line.substring(6));
        }
      }
      if (!data.isEmpty()) {
        events.add(new Sse(name, data.toString()));
      }
    }
    return events;
  }

  /** A streamed POST over a raw socket, so the test decides when the client hangs up. */
  static final class RawStream implements AutoCloseable {

    private final Socket socket;
    private final BufferedReader reader;
    final int status;

    RawStream(int port, String path, String requestId, String body) throws IOException {
      socket = new Socket();
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      socket.setSoTimeout(10_000);
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      OutputStream out = socket.getOutputStream();
      out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
          + "x-request-id: " + requestId + "\r\nContent-Length: " + bytes.length + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.write(bytes);
      out.flush();
      reader = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      status = Integer.parseInt(reader.readLine().split(" ")[1]);
    }

    /** Sends a request and reads nothing: a client waiting for a whole answer. */
    static Socket send(int port, String path, String requestId, String body) throws IOException {
      Socket socket = new Socket();
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      OutputStream out = socket.getOutputStream();
      out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
          + "x-request-id: " + requestId + "\r\nContent-Length: " + bytes.length + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.write(bytes);
      out.flush();
      return socket;
    }

    /** Reads lines until one holds {@code text}. */
    void readUntil(String text) throws IOException {
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        if (line.contains(text)) {
          return;
        }
      }
      throw new IOException("the stream ended before '" + text + "'");
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The scripted plane
  // ---------------------------------------------------------------------------------------------------------------

  /**
   * What a worker plays for one attempt: the chunks (made from the request it was offered), then the end of the
   * stream, or, with {@code holdOpen}, nothing more until the test pushes chunks.
   */
  record Script(Function<GenerateRequest, List<StreamChunk>> chunks, boolean holdOpen, GenerateError refusal) {

    Script(Function<GenerateRequest, List<StreamChunk>> chunks, boolean holdOpen) {
      this(chunks, holdOpen, null);
    }

    /** An attempt the worker refuses outright, as a real one refuses a request it cannot take (busy, stopping). */
    static Script refused(GenerateError refusal) {
      return new Script(r -> List.of(), false, refusal);
    }
  }

  /**
   * A request plane whose workers play scripts: each request id has a queue of scripts, one per attempt, whichever
   * worker the router picks. Records every request offered and, on each stream, its cancel.
   */
  static final class ScriptedPlane implements RequestPlane {

    record Offer(String workerId, GenerateRequest request, ScriptedStream stream) {
    }

    private final Map<String, Deque<Script>> scripts = new ConcurrentHashMap<>();
    private final List<Offer> offers = new CopyOnWriteArrayList<>();

    void script(String requestId, Script... attempts) {
      scripts.put(requestId, new ArrayDeque<>(List.of(attempts)));
    }

    List<Offer> offersOf(String requestId) {
      return offers.stream().filter(o -> o.request().requestId().equals(requestId)).toList();
    }

    Offer onlyOffer(String requestId) {
      List<Offer> of = offersOf(requestId);
      assertThat(of).as("requests offered for " + requestId).hasSize(1);
      return of.get(0);
    }

    @Override
    public String name() {
      return "scripted";
    }

    @Override
    public Future<Void> start() {
      return Future.succeededFuture();
    }

    @Override
    public synchronized Future<ChunkStream> open(WorkerState worker, GenerateRequest request) {
      Deque<Script> queue = scripts.get(request.requestId());
      Script script = queue == null ? null : queue.poll();
      if (script == null) {
        return Future.failedFuture(new WorkerRefusedException(GenerateError.of(GenerateError.Code.INVALID_REQUEST,
            "the test scripted no (more) attempts for request " + request.requestId(), worker.workerId())));
      }
      if (script.refusal() != null) {
        GenerateError refusal = script.refusal();
        offers.add(new Offer(worker.workerId(), request, null));
        return Future.failedFuture(new WorkerRefusedException(new GenerateError(refusal.code(), refusal.message(),
            refusal.retryable(), worker.workerId())));
      }
      ScriptedStream stream = new ScriptedStream(Vertx.currentContext(), worker.workerId(),
          script.chunks().apply(request), script.holdOpen());
      offers.add(new Offer(worker.workerId(), request, stream));
      return Future.succeededFuture(stream);
    }

    @Override
    public GenerateError tooLarge(GenerateRequest request, long rawBodyBytes) {
      return null;
    }

    @Override
    public void workerGone(String workerId, String reason) {
    }

    @Override
    public void nodeGone(String nodeId, String reason) {
    }

    @Override
    public int openStreams() {
      return (int) offers.stream().filter(o -> o.stream() != null && o.stream().open()).count();
    }

    @Override
    public Future<Void> stop() {
      return Future.succeededFuture();
    }
  }

  /**
   * One scripted stream: delivers its chunks one per event-loop turn on the gateway's context (so the gateway's
   * writes interleave as with a real worker), honours pause and resume, and stops at a cancel.
   */
  static final class ScriptedStream implements ChunkStream {

    private final Context context;
    private final String workerId;
    private final Deque<StreamChunk> pending = new ArrayDeque<>();
    private final boolean holdOpen;
    private io.vertx.core.Handler<StreamChunk> handler;
    private boolean paused;
    private volatile boolean ended;
    private volatile String cancelReason;

    ScriptedStream(Context context, String workerId, List<StreamChunk> chunks, boolean holdOpen) {
      this.context = context;
      this.workerId = workerId;
      this.holdOpen = holdOpen;
      for (StreamChunk chunk : chunks) {
        // A failure names the worker that failed, as a real worker's does.
        pending.add(chunk.error() != null && chunk.error().workerId() == null
            ? StreamChunk.failure(chunk.seq(), new GenerateError(chunk.error().code(), chunk.error().message(),
                chunk.error().retryable(), workerId))
            : chunk);
      }
    }

    /** Sends one more chunk (from the test's thread). */
    void push(StreamChunk chunk) {
      context.runOnContext(v -> {
        pending.add(chunk);
        pump();
      });
    }

    String cancelReason() {
      return cancelReason;
    }

    boolean open() {
      return !ended && cancelReason == null;
    }

    @Override
    public ChunkStream handler(io.vertx.core.Handler<StreamChunk> handler) {
      this.handler = handler;
      context.runOnContext(v -> pump());
      return this;
    }

    @Override
    public ChunkStream pause() {
      paused = true;
      return this;
    }

    @Override
    public ChunkStream resume() {
      paused = false;
      context.runOnContext(v -> pump());
      return this;
    }

    @Override
    public ChunkStream fetch(long amount) {
      return resume();
    }

    @Override
    public ChunkStream endHandler(io.vertx.core.Handler<Void> endHandler) {
      return this;
    }

    @Override
    public ChunkStream exceptionHandler(io.vertx.core.Handler<Throwable> handler) {
      return this;
    }

    @Override
    public void cancel(String reason) {
      if (cancelReason == null) {
        cancelReason = reason;
      }
    }

    @Override
    public String workerId() {
      return workerId;
    }

    private void pump() {
      if (handler == null || paused || cancelReason != null || ended || pending.isEmpty()) {
        return;
      }
      StreamChunk chunk = pending.poll();
      if (chunk.isLast()) {
        ended = true;
      }
      handler.handle(chunk);
      if (!pending.isEmpty()) {
        context.runOnContext(v -> pump());
      } else if (!ended && !holdOpen) {
        throw new IllegalStateException("script of worker " + workerId + " ran out without a last chunk");
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The gateway
  // ---------------------------------------------------------------------------------------------------------------
}
