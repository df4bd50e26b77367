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
}
