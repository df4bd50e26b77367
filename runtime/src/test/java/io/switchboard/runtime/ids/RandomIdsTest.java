package io.switchboard.runtime.ids;

import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class RandomIdsTest {

  @Test
  void anIdIs32LowercaseHexCharacters() {
    for (int i = 0; i < 1_000; i++) {
      assertThat(RandomIds.next()).matches("[0-9a-f]{32}");
    }
  }

  @Test
  void idsDrawnOnManyThreadsAtOnceAreAllDifferent() throws Exception {
    Set<String> seen = ConcurrentHashMap.newKeySet();
    ExecutorService threads = Executors.newFixedThreadPool(8);
    try {
      Future<?>[] done = new Future<?>[8];
      for (int t = 0; t < done.length; t++) {
        done[t] = threads.submit(() -> {
          for (int i = 0; i < 50_000; i++) {
            seen.add(RandomIds.next());
          }
        });
      }
      for (Future<?> f : done) {
        f.get(30, TimeUnit.SECONDS);
      }
    } finally {
      threads.shutdownNow();
    }
    assertThat(seen).hasSize(8 * 50_000);
  }

  @Test
  void everyHexDigitTurnsUpInEveryPosition() {
    // A generator stuck at zero in one half, or a broken hex table, would leave a position with few digits.
    @SuppressWarnings("unchecked")
    Set<Character>[] digits = new Set[32];
    for (int p = 0; p < 32; p++) {
      digits[p] = new java.util.HashSet<>();
    }
    for (int i = 0; i < 2_000; i++) {
      String id = RandomIds.next();
      for (int p = 0; p < 32; p++) {
        digits[p].add(id.charAt(p));
      }
    }
    for (Set<Character> position : digits) {
      assertThat(position).hasSize(16);
    }
  }
}
