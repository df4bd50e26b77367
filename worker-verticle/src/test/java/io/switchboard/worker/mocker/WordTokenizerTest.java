package io.switchboard.worker.mocker;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class WordTokenizerTest {

  @Test
  void emptyTextHasNoTokens() {
    assertThat(WordTokenizer.count("")).isZero();
  }

  @Test
  void eachShortWordIsOneToken() {
    assertThat(WordTokenizer.count("the quick brown fox")).isEqualTo(4);
    assertThat(WordTokenizer.count("a")).isEqualTo(1);
    assertThat(WordTokenizer.count("sixsix")).isEqualTo(1);
  }

  @ParameterizedTest(name = "{0} letters -> {1} tokens")
  @CsvSource({"1,1", "6,1", "7,2", "12,2", "13,3", "18,3", "19,4"})
  void longWordsCountOneTokenPerSixCharactersRoundedUp(int letters, int tokens) {
    assertThat(WordTokenizer.count("x".repeat(letters))).isEqualTo(tokens);
    assertThat(WordTokenizer.count("y " + "x".repeat(letters) + " y")).isEqualTo(tokens + 2);
  }

  @Test
  void digitsCountLikeLetters() {
    assertThat(WordTokenizer.count("1234567")).isEqualTo(2);
    assertThat(WordTokenizer.count("abc123")).isEqualTo(1);
  }

  @Test
  void everyPunctuationCharacterIsOneToken() {
    assertThat(WordTokenizer.count("!")).isEqualTo(1);
    assertThat(WordTokenizer.count("?!.")).isEqualTo(3);
    assertThat(WordTokenizer.count("hello, world!")).isEqualTo(4);
    assertThat(WordTokenizer.count("user: hi\n")).isEqualTo(3);
  }

  @Test
  void whitespaceIsFree() {
    assertThat(WordTokenizer.count("   \t\n  ")).isZero();
    assertThat(WordTokenizer.count("  the \n\t model  ")).isEqualTo(2);
    assertThat(WordTokenizer.count("the model")).isEqualTo(WordTokenizer.count("the      model"));
  }

  @Test
  void punctuationEndsAWordRun() {
    // "abcdefg" alone is 2 tokens; split by a hyphen it is two short words plus the hyphen.
    assertThat(WordTokenizer.count("abc-defg")).isEqualTo(3);
    assertThat(WordTokenizer.count("abcdefgh.")).isEqualTo(3);
  }

  @Test
  void hashesHaveOneEntryPerCountedTokenAndEqualTokensHashEqually() {
    for (String text : new String[] {"", "the model", "abcdefghijkl!", "  user: what is 42?\n", "abc-defg"}) {
      assertThat(WordTokenizer.hashes(text)).as(text).hasSize(WordTokenizer.count(text));
    }
    long[] tokens = WordTokenizer.hashes("river river, lake");
    assertThat(tokens[0]).isEqualTo(tokens[1]);
    assertThat(tokens[2]).isNotEqualTo(tokens[0]);
    // Whitespace is free, so a line break does not change the tokens.
    assertThat(WordTokenizer.hashes("a b\nc")).containsExactly(WordTokenizer.hashes("a b c"));
  }
}
