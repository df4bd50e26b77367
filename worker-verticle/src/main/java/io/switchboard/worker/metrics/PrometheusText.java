package io.switchboard.worker.metrics;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A reader of the Prometheus text exposition format (version 0.0.4), the one way backends' {@code /metrics}
 * are read: comments and HELP/TYPE lines are skipped, label values may hold escaped quotes, backslashes and
 * newlines, values may be NaN or +/-Inf, a timestamp may follow. Histogram and summary series come out as their
 * plain samples ({@code _bucket}, {@code _sum}, {@code _count}). A malformed line is skipped, not fatal: one
 * odd line in a backend's output must not blind the worker to the rest.
 */
public final class PrometheusText {

  /** One sample: metric name, labels, value. */
  public record Sample(String name, Map<String, String> labels, double value) {
  }

  private final List<Sample> samples;

  private PrometheusText(List<Sample> samples) {
    this.samples = samples;
  }

  public static PrometheusText parse(String text) {
    List<Sample> samples = new ArrayList<>();
    for (String line : text.split("\n")) {
      Sample sample = parseLine(line.strip());
      if (sample != null) {
        samples.add(sample);
      }
    }
    return new PrometheusText(Collections.unmodifiableList(samples));
  }

  public List<Sample> samples() {
    return samples;
  }

  /** The first sample of {@code name} (any labels), if there is one. */
  public Optional<Double> value(String name) {
    return samples.stream().filter(s -> s.name().equals(name)).map(Sample::value).findFirst();
  }

  /** The first value of any of {@code names}, in the order given (backends rename metrics between versions). */
  public Optional<Double> firstOf(String... names) {
    for (String name : names) {
      Optional<Double> value = value(name);
      if (value.isPresent()) {
        return value;
      }
    }
    return Optional.empty();
  }

  static Sample parseLine(String line) {
    if (line.isEmpty() || line.startsWith("#")) {
      return null;
    }
    int i = 0;
    while (i < line.length() && isNameChar(line.charAt(i), i == 0)) {
      i++;
    }
    if (i == 0) {
      return null;
    }
    String name = line.substring(0, i);
    Map<String, String> labels = new LinkedHashMap<>();
    if (i < line.length() && line.charAt(i) == '{') {
      i = parseLabels(line, i + 1, labels);
      if (i < 0) {
        return null;
      }
    }
    String[] rest = line.substring(i).strip().split("\\s+");
    if (rest.length < 1 || rest.length > 2 || rest[0].isEmpty()) {
      return null;
    }
    Double value = parseValue(rest[0]);
    return value == null ? null : new Sample(name, Collections.unmodifiableMap(labels), value);
  }

  /** Parses {@code k="v",...}} from {@code start}; returns the index after '}' or -1 when malformed. */
  private static int parseLabels(String line, int start, Map<String, String> labels) {
    int i = start;
    while (true) {
      while (i < line.length() && (line.charAt(i) == ' ' || line.charAt(i) == ',')) {
        i++;
      }
      if (i >= line.length()) {
        return -1;
      }
      if (line.charAt(i) == '}') {
        return i + 1;
      }
      int keyStart = i;
      while (i < line.length() && isNameChar(line.charAt(i), i == keyStart)) {
        i++;
      }
      String key = line.substring(keyStart, i);
      if (key.isEmpty() || i + 1 >= line.length() || line.charAt(i) != '=' || line.charAt(i + 1) != '"') {
        return -1;
      }
      i += 2;
      StringBuilder value = new StringBuilder();
      boolean closed = false;
      while (i < line.length()) {
        char c = line.charAt(i++);
        if (c == '\\' && i < line.length()) {
          char escaped = line.charAt(i++);
          value.append(escaped == 'n' ? '\n' : escaped);
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          value.append(c);
        }
      }
      if (!closed) {
        return -1;
      }
      labels.put(key, value.toString());
    }
  }

  private static Double parseValue(String text) {
    switch (text) {
      case "NaN":
        return Double.NaN;
      case "+Inf":
      case "Inf":
        return Double.POSITIVE_INFINITY;
      case "-Inf":
        return Double.NEGATIVE_INFINITY;
      default:
        try {
          return Double.parseDouble(text);
        } catch (NumberFormatException notANumber) {
          return null;
        }
    }
  }

  private static boolean isNameChar(char c, boolean first) {
    return c == '_' || c == ':' || Character.isLetter(c) && c < 128 || !first && c >= '0' && c <= '9';
  }
}
