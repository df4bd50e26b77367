package io.switchboard.gateway.metrics;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * The value of a meter's {@code model} tag for the model a client named. Every distinct tag value is a set of
 * time series kept for the life of the process, so a client must not be able to mint them: a model the cluster
 * serves, or served a moment ago, is tagged with its name; any other name is {@value #UNKNOWN}. At most
 * {@code maxNamed} names are ever used as tags; models beyond them are tagged {@value #OTHER}.
 */
final class ModelTags {

  /** The tag of a model no worker serves or recently served (a typo, a probe, an attack). */
  static final String UNKNOWN = "unknown";
  /** The tag of served models beyond the cap ({@code gateway.metricsMaxModels}). */
  static final String OTHER = "other";

  private final Predicate<String> served;
  private final int maxNamed;
  private final Map<String, String> named = new ConcurrentHashMap<>();

  /**
   * @param served   whether the cluster serves the model now or did a moment ago (the registry's view)
   * @param maxNamed most model names used as tag values
   */
  ModelTags(Predicate<String> served, int maxNamed) {
    this.served = served;
    this.maxNamed = maxNamed;
  }

  String of(String model) {
    if (model == null) {
      return UNKNOWN;
    }
    String tag = named.get(model);
    if (tag != null) {
      return tag;
    }
    if (!served.test(model)) {
      return UNKNOWN;
    }
    synchronized (named) {
      if (named.size() >= maxNamed) {
        return named.getOrDefault(model, OTHER);
      }
      named.putIfAbsent(model, model);
      return model;
    }
  }

  int named() {
    return named.size();
  }
}
