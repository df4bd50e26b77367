package io.switchboard.worker.mocker;

/**
 * The mocker's deterministic text: token {@code i} of the answer to a prompt is a pure function of
 * (seed, prompt, i), so another worker with the same seed continues a half-finished answer with exactly the
 * words the first one would have produced. Every token is one word of at most six letters, so the
 * {@link WordTokenizer} counts each as exactly one token.
 */
final class MockText {

  private static final String[] WORDS = {
      "the", "model", "token", "stream", "answer", "gate", "route", "worker", "node", "fast", "cache", "prefix",
      "batch", "slot", "queue", "load", "light", "river", "stone", "cloud", "green", "quiet", "swift", "bright",
      "north", "south", "field", "ocean", "pixel", "vector", "signal", "noise", "paper", "glass", "amber", "cedar",
      "delta", "echo", "focus", "grain", "harbor", "index", "jolly", "kernel", "lemon", "metal", "nectar", "orbit",
      "plain", "quartz", "radar", "solar", "tiger", "urban", "violet", "water", "xenon", "yield", "zephyr", "and",
      "of", "to", "in", "is"
  };

  private final long promptSeed;

  MockText(long seed, String prompt) {
    this.promptSeed = mix(seed ^ mix(prompt.hashCode()));
  }

  /** Token {@code index} of the answer, with a leading space except for the first. */
  String token(int index) {
    String word = WORDS[(int) Long.remainderUnsigned(mix(promptSeed + index), WORDS.length)];
    return index == 0 ? word : " " + word;
  }

  /** A natural answer length in [min, max], fixed per prompt. */
  int naturalLength(int min, int max) {
    return min + (int) Long.remainderUnsigned(mix(promptSeed ^ 0x9E3779B97F4A7C15L), max - min + 1L);
  }

  /** SplitMix64 finaliser: cheap, well-mixed, deterministic. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
