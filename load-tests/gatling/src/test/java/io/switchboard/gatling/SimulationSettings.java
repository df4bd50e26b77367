package io.switchboard.gatling;

import io.gatling.javaapi.core.Assertion;
import io.gatling.javaapi.http.HttpProtocolBuilder;

import java.net.URI;
import java.time.Duration;

import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.http.HttpDsl.http;

/**
 * What every simulation reads from system properties (the pom passes them on): {@code baseUrl} (loopback only),
 * {@code model}, {@code users}, {@code durationSeconds}, {@code maxErrorPercent}.
 */
final class SimulationSettings {

  static final String BASE_URL = loopback(System.getProperty("baseUrl", "http://127.0.0.1:8080"));
  static final String MODEL = System.getProperty("model", "mock-llm");
  static final int USERS = Integer.getInteger("users", 10);
  static final Duration DURATION = Duration.ofSeconds(Integer.getInteger("durationSeconds", 30));
  static final double MAX_ERROR_PERCENT = Double.parseDouble(System.getProperty("maxErrorPercent", "1"));

  private SimulationSettings() {
  }

  static HttpProtocolBuilder protocol() {
    return http.baseUrl(BASE_URL).contentTypeHeader("application/json").acceptHeader("application/json")
        .shareConnections();
  }

  static Assertion fewErrors() {
    return global().failedRequests().percent().lte(MAX_ERROR_PERCENT);
  }

  /** Load goes to this machine only. */
  private static String loopback(String url) {
    String host = URI.create(url).getHost();
    if (!"127.0.0.1".equals(host) && !"localhost".equals(host) && !"[::1]".equals(host)) {
      throw new IllegalArgumentException("baseUrl must be a loopback address, got " + url);
    }
    return url;
  }
}
