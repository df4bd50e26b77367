package io.switchboard.gateway.routing;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class PrefixIndexTest {

  private final AtomicLong clock = new AtomicLong();

  private static long[] blocks(String text) {
    return PromptBlocks.hash(text, 8);
  }

  @Test
  void equalPrefixesHashEquallyAndADifferenceChangesEveryLaterBlock() {
    long[] a = blocks("aaaaaaaabbbbbbbbcccccccc");
    long[] b = blocks("aaaaaaaabbbbbbbXcccccccc");

    assertThat(a).hasSize(3);
    assertThat(b[0]).isEqualTo(a[0]);
    assertThat(b[1]).isNotEqualTo(a[1]);
    assertThat(b[2]).isNotEqualTo(a[2]);
    assertThat(blocks("short")).isEmpty();
  }

  @Test
  void matchesCountLeadingBlocksPerWorker() {
    PrefixIndex index = new PrefixIndex(1024, 4, Long.MAX_VALUE, clock::get);
    long[] conversation = blocks("x".repeat(8 * 10));
    index.record(java.util.Arrays.copyOf(conversation, 4), "a");
    index.record(conversation, "b");

    Map<String, Integer> matches = index.matches(conversation);

    assertThat(matches).containsEntry("a", 4).containsEntry("b", 10).hasSize(2);
    assertThat(index.matches(blocks("y".repeat(80)))).isEmpty();
  }

  @Test
  void recordSaysWhereTheNewBlocksStart() {
    PrefixIndex index = new PrefixIndex(1024, 4, Long.MAX_VALUE, clock::get);
    long[] turn1 = blocks("0123456789abcdef".repeat(3));
    long[] turn2 = blocks("0123456789abcdef".repeat(3) + "more text here!!");

    assertThat(index.record(turn1, "a")).isZero();
    assertThat(index.record(turn2, "a")).isEqualTo(turn1.length);
    assertThat(index.record(turn2, "a")).isEqualTo(turn2.length);
    assertThat(index.record(turn1, "b")).isZero();
  }

  @Test
  void evictionDropsTheTailsOfOldPromptsFirstNeverTheirStart() {
    PrefixIndex index = new PrefixIndex(1024, 4, Long.MAX_VALUE, clock::get);
    long[] old = blocks("o".repeat(8 * 600));
    index.record(old, "a");
    index.record(blocks("n".repeat(8 * 600)), "b");

    assertThat(index.size()).isEqualTo(1024);
    // 176 blocks of the old prompt were forgotten, from its end.
    assertThat(index.matches(old)).containsEntry("a", 600 - 176);
  }

  @Test
  void aBlockRemembersAtMostTheConfiguredWorkersTheMostRecentKept() {
    PrefixIndex index = new PrefixIndex(1024, 2, Long.MAX_VALUE, clock::get);
    long[] prompt = blocks("p".repeat(16));
    for (String worker : new String[] {"a", "b", "c"}) {
      clock.incrementAndGet();
      index.record(prompt, worker);
    }

    assertThat(index.matches(prompt)).containsOnlyKeys("b", "c");
  }
}
