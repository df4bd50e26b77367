package io.switchboard.gatling;

import io.gatling.javaapi.core.CoreDsl;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.bodyString;
import static io.gatling.javaapi.core.CoreDsl.constantConcurrentUsers;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.core.CoreDsl.substring;
import static io.gatling.javaapi.http.HttpDsl.header;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

/**
 * Streamed chat completions (SSE): each response must be an event stream whose last event is {@code [DONE]}
 * with no error event before it; the response time is the whole stream's.
 */
public class StreamingChatSimulation extends Simulation {

  static final String BODY = "{\"model\":\"" + SimulationSettings.MODEL + "\",\"max_tokens\":32,\"stream\":true,"
      + "\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"stream\"}]}";

  ScenarioBuilder stream = scenario("streaming chat").forever().on(CoreDsl.exec(http("chat completion stream")
      .post("/v1/chat/completions").header("accept", "text/event-stream").body(StringBody(BODY))
      .check(status().is(200), header("content-type").transform(type -> type.startsWith("text/event-stream")).is(true),
          substring("data: [DONE]").exists(), substring("\"error\":{").notExists(),
          bodyString().transform(body -> body.trim().endsWith("data: [DONE]")).is(true))));

  {
    setUp(stream.injectClosed(constantConcurrentUsers(SimulationSettings.USERS).during(SimulationSettings.DURATION)))
        .protocols(SimulationSettings.protocol())
        .maxDuration(SimulationSettings.DURATION)
        .assertions(SimulationSettings.fewErrors());
  }
}
