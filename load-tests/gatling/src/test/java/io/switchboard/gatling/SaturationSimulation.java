package io.switchboard.gatling;

import io.gatling.javaapi.core.CoreDsl;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.rampConcurrentUsers;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

/**
 * A ramp to saturation: closed-loop users grow from 1 to 8 × {@code users} over {@code durationSeconds}; the
 * report's requests-per-second and response-time charts show where throughput stops growing and latency
 * starts to. Overload must still be answered, not dropped: every response is 200, or 503 with Retry-After
 * (the gateway's queue full or timed out), and only other failures count as errors.
 */
public class SaturationSimulation extends Simulation {

  ScenarioBuilder ramp = scenario("ramp to saturation").forever().on(CoreDsl.exec(http("chat completion")
      .post("/v1/chat/completions").body(StringBody(ChatSimulation.BODY))
      .check(status().in(200, 503))));

  {
    setUp(ramp.injectClosed(rampConcurrentUsers(1).to(SimulationSettings.USERS * 8)
        .during(SimulationSettings.DURATION)))
        .protocols(SimulationSettings.protocol())
        .maxDuration(SimulationSettings.DURATION)
        .assertions(SimulationSettings.fewErrors());
  }
}
