package io.switchboard.gateway.plane;

import io.switchboard.gateway.config.GatewayOptions;
import io.switchboard.protocol.StreamChunk;
import io.switchboard.protocol.Usage;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The credit window between a worker and a consumer that pauses and resumes (a client whose connection fills up,
 * then drains): every chunk the consumer takes is credited back to the worker, whether or not taking it made the
 * consumer pause, so however many times a slow client pauses, the worker is never left without credits while the
 * consumer waits for it.
 */
@ExtendWith(VertxExtension.class)
class CreditedChunkStreamTest {

  private static final int WINDOW = 8;

  /** A worker that sends a chunk whenever it holds a credit, and the credits the stream granted it. */
  private static final class Worker {
    int credits = WINDOW;
    long nextSeq;
  }

  @Test
  void aConsumerThatPausesOnEveryChunkStillGetsTheWholeStream(Vertx vertx) {
    int total = 10 * WINDOW * WINDOW;
    Worker worker = new Worker();
    StreamTable table = new StreamTable(vertx, new GatewayOptions());
    CreditedChunkStream stream = new CreditedChunkStream(table, "w-1", "node-1", "s-1", WINDOW,
        System.nanoTime() + TimeUnit.MINUTES.toNanos(1)) {
      @Override
      void grant(int credits) {
        worker.credits += credits;
      }

      @Override
      void stopWorker(String reason) {
      }
    };
    List<StreamChunk> received = new ArrayList<>();
    // The client's connection is full after every chunk: the consumer pauses inside the handler, as the exchange does.
    stream.handler(chunk -> {
      received.add(chunk);
      stream.pause();
    });
    while (received.size() < total) {
      boolean progressed = false;
      while (worker.credits > 0 && worker.nextSeq < total) {
        long seq = worker.nextSeq++;
        worker.credits--;
        stream.onChunk(seq == total - 1 ? StreamChunk.last(seq, "t", 1, "length", new Usage(1, total))
            : StreamChunk.delta(seq, "t", 1));
        progressed = true;
      }
      int before = received.size();
      stream.resume();
      progressed |= received.size() > before;
      assertThat(progressed).as("the stream stalled after %d of %d chunks with the worker holding %d credits",
          received.size(), total, worker.credits).isTrue();
    }
    assertThat(received).hasSize(total);
    assertThat(received.get(total - 1).isLast()).isTrue();
  }
}
