package io.switchboard.worker.plane;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.StreamChunk;
import io.switchboard.protocol.Usage;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The worker end of a credited stream: chunks numbered from 0 on every path (text, last, failure), no more text chunks
 * than credits before the engine is told to wait, and the engine woken once credits come back.
 */
class ChunkSenderTest {

  private final List<StreamChunk> sent = new ArrayList<>();
  private final CreditedChannel channel = new CreditedChannel(2, sent::add);
  private final ChunkSender sender = new ChunkSender(channel);

  @Test
  void textChunksUseCreditsTheLastMayExceedThemByOne() {
    sender.write("a", 1);
    assertThat(sender.writeQueueFull()).isFalse();
    sender.write("b", 1);
    assertThat(sender.writeQueueFull()).as("no credits left").isTrue();
    sender.end("", 0, "stop", new Usage(1, 2));

    assertThat(sent).extracting(StreamChunk::seq).containsExactly(0L, 1L, 2L);
    assertThat(sent.get(2).isLast()).isTrue();
  }

  @Test
  void aGrantWakesTheWaitingEngineOnce() {
    sender.write("a", 1);
    sender.write("b", 1);
    List<String> woken = new ArrayList<>();
    sender.drainHandler(() -> woken.add("drained"));
    channel.grant(1);
    channel.grant(1);

    assertThat(woken).containsExactly("drained");
    assertThat(sender.writeQueueFull()).isFalse();
  }

  @Test
  void aFailureIsTheNextChunkInSequence() {
    sender.write("a", 1);
    sender.fail(GenerateError.of(GenerateError.Code.ENGINE_FAILED, "backend went away", "w-1"));

    assertThat(sent).extracting(StreamChunk::seq).containsExactly(0L, 1L);
    assertThat(sent.get(1).error().message()).isEqualTo("backend went away");
    assertThat(sent.get(1).isLast()).isTrue();
  }
}
