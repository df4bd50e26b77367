package io.switchboard.gateway.plane;

import io.switchboard.gateway.config.GatewayOptions;
import io.switchboard.protocol.StreamChunk;
import io.switchboard.protocol.Usage;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.streams.WriteStream;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The gateway's stream as a Vert.x {@code ReadStream} over a credited worker: the worker is credited only for chunks
 * the consumer took, however the consumer asks for them (pausing and resuming as a client's connection fills and
 * drains, {@code fetch}, or {@code pipeTo} a slow {@code WriteStream}), so nothing is lost, nothing piles up past one
 * window, and the worker is never left without credits while the consumer waits for it.
 */
@ExtendWith(VertxExtension.class)
class PlaneChunkStreamTest {

  private static final int WINDOW = 8;

  /** A worker that sends a chunk whenever it holds a credit; the credits it was granted and the chunks it sent. */
  private static final class Worker implements WorkerLink {
    final int total;
    final CreditWindow window = new CreditWindow(WINDOW);
    int credits = WINDOW;
    long granted;
    long nextSeq;
    PlaneChunkStream stream;

    Worker(int total) {
      this.total = total;
    }

    @Override
    public void demand(int taken, boolean paused) {
      int grant = window.taken(taken);
      credits += grant;
      granted += grant;
    }

    @Override
    public void stop(String reason) {
    }

    /** Sends while it holds credits; true if it sent anything. */
    boolean sendWhatCreditsAllow() {
      boolean sent = false;
      while (credits > 0 && nextSeq < total) {
        long seq = nextSeq++;
        credits--;
        stream.onChunk(seq == total - 1 ? StreamChunk.last(seq, "t" + seq, 1, "length", new Usage(1, total))
            : StreamChunk.delta(seq, "t" + seq, 1));
        sent = true;
      }
      return sent;
    }
  }

  private static PlaneChunkStream streamTo(Vertx vertx, Worker worker) {
    PlaneChunkStream stream = new PlaneChunkStream(new StreamTable(vertx, new GatewayOptions()), worker, "w-1",
        "node-1", "s-1", System.nanoTime() + TimeUnit.MINUTES.toNanos(1));
    worker.stream = stream;
    return stream;
  }

  @Test
  void aConsumerThatPausesOnEveryChunkStillGetsTheWholeStream(Vertx vertx) {
    int total = 10 * WINDOW * WINDOW;
    Worker worker = new Worker(total);
    PlaneChunkStream stream = streamTo(vertx, worker);
    List<StreamChunk> received = new ArrayList<>();
    // The client's connection is full after every chunk: the consumer pauses inside the handler, as the exchange does.
    stream.handler(chunk -> {
      received.add(chunk);
      stream.pause();
    });
    while (received.size() < total) {
      boolean progressed = worker.sendWhatCreditsAllow();
      int before = received.size();
      stream.resume();
      progressed |= received.size() > before;
      assertThat(progressed).as("the stream stalled after %d of %d chunks with the worker holding %d credits",
          received.size(), total, worker.credits).isTrue();
    }
    assertThat(received).hasSize(total);
    assertThat(received.get(total - 1).isLast()).isTrue();
  }

  @Test
  void fetchDeliversExactlyWhatWasAskedForAndCreditsOnlyThat(Vertx vertx) {
    Worker worker = new Worker(100);
    PlaneChunkStream stream = streamTo(vertx, worker);
    List<StreamChunk> received = new ArrayList<>();
    stream.pause().handler(received::add);
    worker.sendWhatCreditsAllow();
    assertThat(received).isEmpty();
    assertThat(stream.heldBack()).isTrue();

    stream.fetch(3);
    assertThat(received).extracting(StreamChunk::seq).containsExactly(0L, 1L, 2L);
    assertThat(worker.granted).as("3 taken, less than half a window").isZero();
    stream.fetch(2);
    assertThat(received).hasSize(5);
    assertThat(worker.granted).as("half a window taken: credited back").isEqualTo(5);
    assertThat(stream.heldBack()).isTrue();
  }

  @Test
  void pipedIntoASlowWriteStreamCreditsFollowDemandAndNothingIsLost(Vertx vertx) {
    int total = 50 * WINDOW;
    Worker worker = new Worker(total);
    PlaneChunkStream stream = streamTo(vertx, worker);
    SlowWriteStream client = new SlowWriteStream(3);
    Future<Void> piped = stream.pipeTo(client);
    int rounds = 0;
    while (!client.ended && rounds++ < 10 * total) {
      worker.sendWhatCreditsAllow();
      // What the worker sent and the client has not taken: in flight or queued at the gateway, never past a window.
      assertThat(worker.nextSeq - client.taken()).isLessThanOrEqualTo(WINDOW);
      // Credits only for what the client took.
      assertThat(worker.granted).isLessThanOrEqualTo(client.taken());
      client.drainOne();
    }
    assertThat(client.ended).as("the end reached the write stream").isTrue();
    assertThat(piped.succeeded()).isTrue();
    assertThat(client.written).extracting(StreamChunk::seq)
        .containsExactlyElementsOf(java.util.stream.LongStream.range(0, total).boxed().toList());
    assertThat(client.written.get(total - 1).isLast()).isTrue();
  }

  @Test
  void theEndHandlerRunsAfterTheLastChunkAndNotAfterACancel(Vertx vertx) {
    Worker worker = new Worker(3);
    PlaneChunkStream stream = streamTo(vertx, worker);
    List<String> events = new ArrayList<>();
    stream.endHandler(v -> events.add("end")).handler(chunk -> events.add("chunk " + chunk.seq()));
    worker.sendWhatCreditsAllow();
    assertThat(events).containsExactly("chunk 0", "chunk 1", "chunk 2", "end");

    Worker another = new Worker(3);
    PlaneChunkStream cancelled = streamTo(vertx, another);
    List<String> after = new ArrayList<>();
    cancelled.endHandler(v -> after.add("end")).handler(chunk -> {
      after.add("chunk " + chunk.seq());
      cancelled.cancel("client went away");
    });
    another.sendWhatCreditsAllow();
    assertThat(after).containsExactly("chunk 0");
  }

  /**
   * A client connection that takes {@code capacity} chunks into its buffer and then is full until the test drains
   * one: a slow reader, driven step by step.
   */
  private static final class SlowWriteStream implements WriteStream<StreamChunk> {
    final int capacity;
    final List<StreamChunk> written = new ArrayList<>();
    int buffered;
    boolean ended;
    Handler<Void> drainHandler;

    SlowWriteStream(int capacity) {
      this.capacity = capacity;
    }

    long taken() {
      return written.size();
    }

    void drainOne() {
      if (buffered > 0) {
        buffered--;
      }
      Handler<Void> drained = drainHandler;
      if (drained != null && !writeQueueFull()) {
        drainHandler = null;
        drained.handle(null);
      }
    }

    @Override
    public Future<Void> write(StreamChunk chunk) {
      assertThat(ended).as("a write after the end").isFalse();
      written.add(chunk);
      buffered++;
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> end() {
      ended = true;
      return Future.succeededFuture();
    }

    @Override
    public boolean writeQueueFull() {
      return buffered >= capacity;
    }

    @Override
    public WriteStream<StreamChunk> drainHandler(Handler<Void> handler) {
      this.drainHandler = handler;
      return this;
    }

    @Override
    public WriteStream<StreamChunk> exceptionHandler(Handler<Throwable> handler) {
      return this;
    }

    @Override
    public WriteStream<StreamChunk> setWriteQueueMaxSize(int maxSize) {
      return this;
    }
  }
}
