package io.switchboard.worker.metrics;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A reader of the Prometheus text exposition format (version 0.0.4), the one way backends' {@code /metrics}
 * are read: comments and HELP/TYPE lines are skipped, label values may hold escaped quotes, backslashes and
 * newlines, values may be NaN or +/-Inf, a timestamp may follow. Histogram and summary series come out as their
 * plain samples ({@code _bucket}, {@code _sum}, {@code _count}) and, summed over label sets, as a
 * {@link Histogram}; {@code # TYPE} lines are kept. A malformed line is skipped, not fatal: one
 * odd line in a backend's output must not blind the worker to the rest.
 */
public final class PrometheusText {

  /** One sample: metric name, labels, value. */
  public record Sample(String name, Map<String, String> labels, double value) {
  }

  /**
   * A histogram family summed over its label sets (several engines, ranks): cumulative counts per upper bound,
   * +Inf included, with the total count and sum.
   */
  public record Histogram(SortedMap<Double, Double> buckets, double count, double sum) {

    /**
     * The {@code q} quantile estimated as Prometheus' histogram_quantile does: linear within the bucket that
     * reaches it; the highest finite bound when it falls in the +Inf bucket; NaN without observations.
     */
    public double quantile(double q) {
      double total = buckets.isEmpty() ? 0 : buckets.get(buckets.lastKey());
      if (total == 0) {
        return Double.NaN;
      }
      double rank = q * total;
      double lowerBound = 0;
      double lowerCount = 0;
      for (Map.Entry<Double, Double> bucket : buckets.entrySet()) {
        if (bucket.getValue() >= rank) {
          if (bucket.getKey().isInfinite()) {
            return lowerBound;
          }
          double inBucket = bucket.getValue() - lowerCount;
          return inBucket == 0 ? bucket.getKey()
              : lowerBound + (bucket.getKey() - lowerBound) * (rank - lowerCount) / inBucket;
        }
        lowerBound = bucket.getKey();
        lowerCount = bucket.getValue();
      }
      return lowerBound;
    }
  }

  private final List<Sample> samples;
  private final Map<String, String> types;

  private PrometheusText(List<Sample> samples, Map<String, String> types) {
    this.samples = samples;
    this.types = types;
  }

  public static PrometheusText parse(String text) {
    List<Sample> samples = new ArrayList<>();
    Map<String, String> types = new HashMap<>();
    for (String line : text.split("\n")) {
      String stripped = line.strip();
      if (stripped.startsWith("# TYPE ")) {
        String[] parts = stripped.substring(7).strip().split("\\s+");
        if (parts.length == 2) {
          types.put(parts[0], parts[1]);
        }
        continue;
      }
      Sample sample = parseLine(stripped);
      if (sample != null) {
        samples.add(sample);
      }
    }
    return new PrometheusText(Collections.unmodifiableList(samples), Map.copyOf(types));
  }

  /** The type a {@code # TYPE} line gave the family (counter, gauge, histogram, summary, untyped, info). */
  public Optional<String> type(String family) {
    return Optional.ofNullable(types.get(family));
  }

  /** Every sample of {@code name}, whatever its labels. */
  public List<Sample> samples(String name) {
    return samples.stream().filter(s -> s.name().equals(name)).toList();
  }

  /** The sum over every label set of {@code name} (vLLM exports one series per data-parallel engine). */
  public Optional<Double> sum(String name) {
    List<Sample> found = samples(name);
    return found.isEmpty() ? Optional.empty()
        : Optional.of(found.stream().mapToDouble(Sample::value).sum());
  }

  /** The largest value over every label set of {@code name}. */
  public Optional<Double> max(String name) {
    return samples(name).stream().map(Sample::value).max(Double::compare);
  }

  /** The histogram {@code family} summed over its label sets; empty when it has no buckets. */
  public Optional<Histogram> histogram(String family) {
    SortedMap<Double, Double> buckets = new TreeMap<>();
    for (Sample bucket : samples(family + "_bucket")) {
      String le = bucket.labels().get("le");
      Double bound = le == null ? null : parseValue(le);
      if (bound != null) {
        buckets.merge(bound, bucket.value(), Double::sum);
      }
    }
    if (buckets.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new Histogram(Collections.unmodifiableSortedMap(buckets),
        sum(family + "_count").orElse(buckets.get(buckets.lastKey())), sum(family + "_sum").orElse(Double.NaN)));
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
