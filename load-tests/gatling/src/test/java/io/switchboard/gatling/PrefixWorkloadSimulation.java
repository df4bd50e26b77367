package io.switchboard.gatling;

import io.gatling.javaapi.core.CoreDsl;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Session;
import io.gatling.javaapi.core.Simulation;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.constantConcurrentUsers;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

/**
 * The multi-turn, shared-prefix workload a prefix-aware router is for: each conversation belongs to one of 8
 * tenants (a long system prompt each), runs 4 turns, and sends its whole history every turn, with its session
 * id in {@code x-session-id}.
 */
public class PrefixWorkloadSimulation extends Simulation {

  private static final AtomicLong CONVERSATIONS = new AtomicLong();
  private static final Iterator<Map<String, Object>> FEED = Stream.generate(() -> {
    long n = CONVERSATIONS.incrementAndGet();
    return Map.<String, Object>of("conversation", "c" + n, "tenant", n % 8);
  }).iterator();

  ScenarioBuilder conversations = scenario("multi-turn conversations").forever().on(
      CoreDsl.feed(FEED)
          .exec(session -> session.set("history", ""))
          .repeat(4, "turn").on(CoreDsl.exec(http("turn").post("/v1/chat/completions")
              .header("x-session-id", "#{conversation}")
              .body(StringBody(PrefixWorkloadSimulation::body))
              .check(status().is(200), jsonPath("$.choices[0].message.content").saveAs("answer")))
              .exec(session -> session.set("history", session.getString("history")
                  + ",{\"role\":\"user\",\"content\":\"question " + session.getInt("turn") + "\"},"
                  + "{\"role\":\"assistant\",\"content\":\"" + escape(session.getString("answer")) + "\"}"))));

  private static String body(Session session) {
    String system = ("You are the assistant of tenant " + session.getLong("tenant") + "; answer briefly. ").repeat(20);
    return "{\"model\":\"" + SimulationSettings.MODEL + "\",\"max_tokens\":8,\"messages\":["
        + "{\"role\":\"system\",\"content\":\"" + system + "\"}" + session.getString("history")
        + ",{\"role\":\"user\",\"content\":\"question " + session.getInt("turn") + "\"}]}";
  }

  private static String escape(String text) {
    return text == null ? "" : text.replace("\\", "\\\\").replace("\"", "\\\"");
  }

  {
    setUp(conversations.injectClosed(constantConcurrentUsers(SimulationSettings.USERS)
        .during(SimulationSettings.DURATION)))
        .protocols(SimulationSettings.protocol())
        .maxDuration(SimulationSettings.DURATION)
        .assertions(SimulationSettings.fewErrors());
  }
}
