package io.switchboard.worker.mocker;

/**
 * A deterministic stand-in tokenizer for counting: a run of letters or digits is one token per six characters
 * (rounded up), every other visible character is one token, whitespace is free. Close enough to a BPE count
 * for English to make usage numbers and context limits behave realistically.
 */
public final class WordTokenizer {

  static final int CHARS_PER_WORD_TOKEN = 6;

  private WordTokenizer() {
  }

  public static int count(CharSequence text) {
    int tokens = 0;
    int run = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isLetterOrDigit(c)) {
        run++;
        continue;
      }
      tokens += (run + CHARS_PER_WORD_TOKEN - 1) / CHARS_PER_WORD_TOKEN;
      run = 0;
      if (!Character.isWhitespace(c)) {
        tokens++;
      }
    }
    return tokens + (run + CHARS_PER_WORD_TOKEN - 1) / CHARS_PER_WORD_TOKEN;
  }

  /**
   * The tokens of {@code text} as 64-bit hashes, split exactly as {@link #count} counts them (so
   * {@code hashes(t).length == count(t)}): what the mocker's KV cache keys its blocks by.
   */
  public static long[] hashes(CharSequence text) {
    long[] tokens = new long[count(text)];
    int n = 0;
    int runStart = -1;
    for (int i = 0; i <= text.length(); i++) {
      char c = i < text.length() ? text.charAt(i) : ' ';
      if (Character.isLetterOrDigit(c)) {
        if (runStart < 0) {
          runStart = i;
        }
        if (i - runStart + 1 == CHARS_PER_WORD_TOKEN) {
          tokens[n++] = hash(text, runStart, i + 1);
          runStart = -1;
        }
        continue;
      }
      if (runStart >= 0) {
        tokens[n++] = hash(text, runStart, i);
        runStart = -1;
      }
      if (!Character.isWhitespace(c)) {
        tokens[n++] = hash(text, i, i + 1);
      }
    }
    return tokens;
  }

  private static long hash(CharSequence text, int from, int to) {
    long h = 0xcbf29ce484222325L;
    for (int i = from; i < to; i++) {
      h = (h ^ text.charAt(i)) * 0x100000001b3L;
    }
    return h;
  }
}
