package io.switchboard.gatling;

import io.gatling.javaapi.core.CoreDsl;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.constantConcurrentUsers;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

/** Non-streaming chat completions from {@code users} closed-loop users for {@code durationSeconds}. */
public class ChatSimulation extends Simulation {

  static final String BODY = "{\"model\":\"" + SimulationSettings.MODEL + "\",\"max_tokens\":16,"
      + "\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";

  ScenarioBuilder chat = scenario("chat").forever().on(CoreDsl.exec(http("chat completion")
      .post("/v1/chat/completions").body(StringBody(BODY))
      .check(status().is(200), jsonPath("$.choices[0].message.content").exists())));

  {
    setUp(chat.injectClosed(constantConcurrentUsers(SimulationSettings.USERS).during(SimulationSettings.DURATION)))
        .protocols(SimulationSettings.protocol())
        .maxDuration(SimulationSettings.DURATION)
        .assertions(SimulationSettings.fewErrors());
  }
}
