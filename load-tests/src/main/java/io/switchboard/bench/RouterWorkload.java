package io.switchboard.bench;

import io.switchboard.worker.mocker.WordTokenizer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The router benchmark's workload, generated from a seed so that every policy gets the very same requests at
 * the very same times: tenants, each with its own long system prompt; sessions of several turns on one tenant
 * each (a turn repeats the conversation so far, with a fixed stand-in for the assistant's earlier answers);
 * Poisson arrivals, each the next turn of one of {@code concurrentSessions} open sessions picked at random (a
 * finished session is replaced by a new one on a random tenant).
 */
final class RouterWorkload {

  /** One request of the schedule. */
  record Turn(long atNanos, String session, int turn, JsonArray messages, int idealUncachedTokens) {
  }

  private final int tenants;
  private final int systemTokens;
  private final int userTokens;
  private final int assistantTokens;
  private final int turns;
  private final int concurrentSessions;
  private final SplittableRandom random;
  private final List<String> systemPrompts = new ArrayList<>();

  RouterWorkload(long seed, int tenants, int systemTokens, int userTokens, int assistantTokens, int turns,
                 int concurrentSessions) {
    this.tenants = tenants;
    this.systemTokens = systemTokens;
    this.userTokens = userTokens;
    this.assistantTokens = assistantTokens;
    this.turns = turns;
    this.concurrentSessions = concurrentSessions;
    this.random = new SplittableRandom(seed);
    for (int t = 0; t < tenants; t++) {
      systemPrompts.add("You are the assistant of tenant " + t + ". " + words(systemTokens));
    }
  }

  /** One short request per tenant, to compute each system prompt once before measuring (a running cluster's state). */
  List<JsonArray> warmups() {
    List<JsonArray> warmups = new ArrayList<>();
    for (int t = 0; t < tenants; t++) {
      warmups.add(new JsonArray().add(message("system", systemPrompts.get(t))).add(message("user", "Hello.")));
    }
    return warmups;
  }

  /**
   * Prompt tokens a request must compute when everything reusable is cached: its new messages (the previous
   * answer and the new question), not the tenant's system prompt nor the conversation before. The mean over
   * a long schedule, used to set the arrival rate for a target load.
   */
  double meanIdealUncachedTokens() {
    List<Turn> sample = schedule(1.0, 10_000, 0);
    return sample.stream().mapToInt(Turn::idealUncachedTokens).average().orElse(1);
  }

  /**
   * Arrivals for {@code seconds}: Poisson at {@code ratePerSecond}, after a linear ramp from a tenth of it over
   * the first {@code rampSeconds} (caches fill while there is room for the misses, as in a running cluster).
   */
  List<Turn> schedule(double ratePerSecond, double seconds, double rampSeconds) {
    SplittableRandom arrivals = random.split();
    List<Session> open = new ArrayList<>();
    int sessionCount = 0;
    for (int i = 0; i < concurrentSessions; i++) {
      open.add(new Session("s" + sessionCount++, arrivals.nextInt(tenants)));
    }
    List<Turn> schedule = new ArrayList<>();
    double t = 0;
    while (true) {
      double rate = t >= rampSeconds ? ratePerSecond : ratePerSecond * Math.max(0.1, t / rampSeconds);
      t += -Math.log(1 - arrivals.nextDouble()) / rate;
      if (t >= seconds) {
        return schedule;
      }
      int slot = arrivals.nextInt(open.size());
      Session session = open.get(slot);
      schedule.add(session.next((long) (t * 1e9), arrivals));
      if (session.turn == turns) {
        open.set(slot, new Session("s" + sessionCount++, arrivals.nextInt(tenants)));
      }
    }
  }

  private final class Session {
    final String id;
    final int tenant;
    final JsonArray messages = new JsonArray();
    int turn;

    Session(String id, int tenant) {
      this.id = id;
      this.tenant = tenant;
      messages.add(message("system", systemPrompts.get(tenant)));
    }

    Turn next(long atNanos, SplittableRandom words) {
      String question = "Question " + (turn + 1) + " of " + id + ": " + words(userTokens, words);
      int ideal = WordTokenizer.count("user: " + question);
      if (turn > 0) {
        ideal += WordTokenizer.count("assistant: " + messages.getJsonObject(messages.size() - 1).getString("content"));
      }
      messages.add(message("user", question));
      Turn request = new Turn(atNanos, id, turn, messages.copy(), ideal);
      // The stand-in for this turn's answer, repeated in the next turn's history.
      messages.add(message("assistant", "Answer " + (turn + 1) + " of " + id + ": " + words(assistantTokens, words)));
      turn++;
      return request;
    }
  }

  private String words(int count) {
    return words(count, random);
  }

  private static String words(int count, SplittableRandom random) {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < count; i++) {
      int length = 2 + random.nextInt(5);
      for (int c = 0; c < length; c++) {
        text.append((char) ('a' + random.nextInt(26)));
      }
      text.append(i % 12 == 11 ? ". " : " ");
    }
    return text.toString().trim();
  }

  private static JsonObject message(String role, String content) {
    return new JsonObject().put("role", role).put("content", content);
  }
}
