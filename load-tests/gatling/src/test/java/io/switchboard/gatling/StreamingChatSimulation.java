package io.switchboard.gatling;

import io.gatling.javaapi.core.CheckBuilder;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.SseMessageCheck;

import java.time.Duration;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.constantConcurrentUsers;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.group;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.sse;

/**
 * Streamed chat completions read with Gatling's SSE support, every event checked (see {@link ChatChunkEvent}):
 * the stream must answer 200 with {@code text/event-stream}, carry well-formed {@code chat.completion.chunk}s and
 * no error event, and end with {@code [DONE]}.
 *
 * <p>What the report shows, per stream: {@code connect} (request sent to response headers), {@code first token}
 * (headers to the first chunk with content; the role chunk before it is checked and passed over), {@code to [DONE]}
 * (the first content chunk to {@code [DONE]}, every chunk between checked) and {@code close}. The group
 * {@code stream / time to first token} holds connect and first token, so its cumulated response time is the time
 * to first token; the group {@code stream} is the whole stream, request sent to {@code [DONE]}.
 */
public class StreamingChatSimulation extends Simulation {

  static final String BODY = "{\"model\":\"" + SimulationSettings.MODEL + "\",\"max_tokens\":32,\"stream\":true,"
      + "\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"stream\"}]}";

  /** Longer than any healthy stream here takes; a stalled stream fails its check instead of holding a user. */
  private static final Duration FIRST_TOKEN_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration STREAM_TIMEOUT = Duration.ofSeconds(60);

  /**
   * Stops at the first event that is not a chunk without content and requires it to be a chunk with content; the
   * chunks without content before it (the role chunk) are checked by the matching condition. (The conditions are
   * booleans compared with {@code is}: Gatling 3.14's {@code not} fails, even when the values differ, on a check
   * that does not display the value it found.)
   */
  private static final SseMessageCheck FIRST_TOKEN = sse.checkMessage("first token")
      .matching(data().transform(ChatChunkEvent::isChunkWithoutContent).is(false))
      .check(verdict().is(ChatChunkEvent.CONTENT_CHUNK));

  /**
   * Stops at the first event that is not a well-formed chunk and requires it to be {@code [DONE]}: an error event
   * or a malformed chunk fails the check, naming the fault, and a stream that ends without {@code [DONE]} fails it
   * with "End of stream".
   */
  private static final SseMessageCheck DONE = sse.checkMessage("to [DONE]")
      .matching(data().transform(ChatChunkEvent::isChunk).is(false))
      .check(verdict().is(ChatChunkEvent.DONE));

  private static CheckBuilder.Validate<String> verdict() {
    return data().transform(ChatChunkEvent::verdict);
  }

  /**
   * The event's data: Gatling hands an SSE check the event as JSON, {@code {"data":"..."}} (plus {@code event},
   * {@code id}, {@code retry} when sent). Through jsonPath, unlike bodyString, a failed check shows the value found.
   */
  private static CheckBuilder.Find<String> data() {
    return jsonPath("$.data").ofString();
  }

  // The first-token check completes and the next check is set within the same event-loop turn (no loop or pause
  // between them), so no event can arrive unchecked in between.
  ScenarioBuilder stream = scenario("streaming chat").forever().on(
      group("stream").on(
          group("time to first token").on(
              exec(sse("connect").post("/v1/chat/completions").body(StringBody(BODY))
                  .await(FIRST_TOKEN_TIMEOUT).on(FIRST_TOKEN))),
          exec(sse("to [DONE]").setCheck().await(STREAM_TIMEOUT).on(DONE))),
      exec(sse("close").close()));

  {
    setUp(stream.injectClosed(constantConcurrentUsers(SimulationSettings.USERS).during(SimulationSettings.DURATION)))
        .protocols(SimulationSettings.protocol())
        .maxDuration(SimulationSettings.DURATION)
        .assertions(SimulationSettings.fewErrors());
  }
}
