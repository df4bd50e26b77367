package io.switchboard.worker.openai;

import io.vertx.core.buffer.Buffer;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Reads a server-sent event stream from bytes as they arrive and hands each event's data, as UTF-8 bytes, to a
 * handler: a slice of an array that is the handler's only during the call (an event of one data line, the
 * usual, is handed over where it was read, not copied). Lines may end in LF, CRLF or CR; {@code data} lines of one event are joined with LF; comments and the
 * other fields ({@code event}, {@code id}, {@code retry}) are skipped, as an OpenAI stream carries only data. It
 * pauses between two events: bytes that arrive meanwhile wait for {@link #resume()}. At the end of the input a
 * last event without its blank line is still handed over (a lenient backend may stop there).
 *
 * <p>Written for the proxied hot path: vertx-web-client's SSE codec built Strings for every line and field of
 * every event (load-tests/bin/sse-read-bench measures the two; SseEventReaderTest holds the rules).
 */
final class SseEventReader {

  /** An event this large is not a token stream; more would only grow memory. */
  static final int MAX_EVENT_BYTES = 16 * 1024 * 1024;
  private static final byte[] BYTE_ORDER_MARK = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
  /** Eight bytes at a time, for the search for line ends. */
  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long ALL_LF = 0x0A0A0A0A0A0A0A0AL;
  private static final long ALL_CR = 0x0D0D0D0D0D0D0D0DL;
  private static final long LOW_BITS = 0x0101010101010101L;
  private static final long HIGH_BITS = 0x8080808080808080L;

  /** Receives one event's data: {@code length} bytes of {@code bytes} from {@code offset}, only during the call. */
  interface DataHandler {
    void event(byte[] bytes, int offset, int length);
  }

  private final DataHandler dataHandler;
  private final Consumer<String> failureHandler;
  private final Runnable endHandler;
  private byte[] input = new byte[4096];
  private int start;
  private int end;
  /** Where the search for the next line end resumes: bytes before it hold no line end. */
  private int scanned;
  /** The event's data when it has more than one line (or its one line had to leave {@link #input}). */
  private byte[] data = new byte[512];
  private int dataLength;
  private boolean hasData;
  /** Whether the event's data is in {@link #data}; if not, it is its one data line, still in {@link #input}. */
  private boolean dataCopied;
  private int lineFrom;
  private int lineTo;
  /** The last line ended in CR at the end of the input: an LF that comes next belongs to it. */
  private boolean skipLf;
  private boolean atStart = true;
  private boolean paused;
  private boolean ended;
  private boolean finished;

  /**
   * @param dataHandler    each event's data; it may call {@link #pause()}
   * @param failureHandler why the stream cannot be read (then nothing more is handed over)
   * @param endHandler     after the input ended and every event was handed over
   */
  SseEventReader(DataHandler dataHandler, Consumer<String> failureHandler, Runnable endHandler) {
    this.dataHandler = dataHandler;
    this.failureHandler = failureHandler;
    this.endHandler = endHandler;
  }

  void write(Buffer buffer) {
    if (finished) {
      return;
    }
    int length = buffer.length();
    if (end + length > input.length) {
      makeRoom(length);
      if (finished) {
        return;
      }
    }
    buffer.getBytes(0, length, input, end);
    end += length;
    if (atStart && !skipByteOrderMark()) {
      return;
    }
    readEvents();
  }

  /** False while the bytes so far could still be the start of a byte order mark (the spec drops one). */
  private boolean skipByteOrderMark() {
    int available = end - start;
    for (int i = 0; i < Math.min(BYTE_ORDER_MARK.length, available); i++) {
      if (input[start + i] != BYTE_ORDER_MARK[i]) {
        atStart = false;
        return true;
      }
    }
    if (available < BYTE_ORDER_MARK.length) {
      return false;
    }
    start += BYTE_ORDER_MARK.length;
    scanned = start;
    atStart = false;
    return true;
  }

  /** The input ended: hands over what is left once not paused, then calls the end handler. */
  void end() {
    ended = true;
    atStart = false;
    readEvents();
  }

  void pause() {
    paused = true;
  }

  void resume() {
    if (paused) {
      paused = false;
      readEvents();
    }
  }

  private void readEvents() {
    while (!paused && !finished) {
      if (skipLf && start < end) {
        skipLf = false;
        if (input[start] == '\n') {
          start++;
        }
      }
      int lineEnd = lineEnd();
      if (lineEnd < 0) {
        break;
      }
      int next = lineEnd + 1;
      if (input[lineEnd] == '\r') {
        if (next < end) {
          if (input[next] == '\n') {
            next++;
          }
        } else {
          skipLf = true;
        }
      }
      int lineStart = start;
      start = next;
      scanned = next;
      line(lineStart, lineEnd);
    }
    if (ended && !paused && !finished) {
      if (start < end) {
        int lineStart = start;
        start = end;
        line(lineStart, end);
      }
      if (!paused && !finished) {
        if (hasData) {
          handOver();
        }
        if (!paused && !finished) {
          finished = true;
          endHandler.run();
        }
      }
    }
  }

  private int lineEnd() {
    int i = Math.max(scanned, start);
    for (; i + Long.BYTES <= end; i += Long.BYTES) {
      long word = (long) LONGS.get(input, i);
      long lf = word ^ ALL_LF;
      long cr = word ^ ALL_CR;
      // The classic zero-byte test: its lowest set bit marks the first zero byte exactly (little-endian order).
      long found = ((lf - LOW_BITS) & ~lf | (cr - LOW_BITS) & ~cr) & HIGH_BITS;
      if (found != 0) {
        return i + (Long.numberOfTrailingZeros(found) >>> 3);
      }
    }
    for (; i < end; i++) {
      byte b = input[i];
      if (b == '\n' || b == '\r') {
        return i;
      }
    }
    scanned = end;
    return -1;
  }

  private void line(int from, int to) {
    if (from == to) {
      if (hasData) {
        handOver();
      }
      return;
    }
    if (to - from < 4 || input[from] != 'd' || input[from + 1] != 'a' || input[from + 2] != 't'
        || input[from + 3] != 'a' || (to - from > 4 && input[from + 4] != ':')) {
      return; // a comment (":"), another field, or a field that only starts with "data"
    }
    int value = from + 4;
    if (value < to) {
      value++;
      if (value < to && input[value] == ' ') {
        value++;
      }
    }
    if (!hasData) {
      if (to - value > MAX_EVENT_BYTES) {
        fail("an event is larger than " + MAX_EVENT_BYTES + " bytes");
        return;
      }
      lineFrom = value;
      lineTo = to;
      hasData = true;
      return;
    }
    copyLineToData();
    int needed = dataLength + 1 + (to - value);
    if (needed > MAX_EVENT_BYTES) {
      fail("an event is larger than " + MAX_EVENT_BYTES + " bytes");
      return;
    }
    ensureData(needed);
    data[dataLength++] = '\n';
    System.arraycopy(input, value, data, dataLength, to - value);
    dataLength += to - value;
  }

  /** The event's first data line goes to {@link #data} (a second line came, or the input is moving). */
  private void copyLineToData() {
    if (!dataCopied) {
      ensureData(lineTo - lineFrom);
      System.arraycopy(input, lineFrom, data, 0, lineTo - lineFrom);
      dataLength = lineTo - lineFrom;
      dataCopied = true;
    }
  }

  private void ensureData(int needed) {
    if (needed > data.length) {
      data = Arrays.copyOf(data, Math.max(needed, data.length * 2));
    }
  }

  private void handOver() {
    hasData = false;
    if (dataCopied) {
      dataCopied = false;
      int length = dataLength;
      dataLength = 0;
      dataHandler.event(data, 0, length);
    } else {
      dataHandler.event(input, lineFrom, lineTo - lineFrom);
    }
  }

  /** Room for {@code more} bytes: unread bytes move to the front, the array grows if they still do not fit. */
  private void makeRoom(int more) {
    if (hasData) {
      copyLineToData(); // its bytes are before start: moving the unread ones would overwrite them
    }
    int unread = end - start;
    if (unread + more > MAX_EVENT_BYTES) {
      fail("an event is larger than " + MAX_EVENT_BYTES + " bytes");
      return;
    }
    byte[] target = unread + more > input.length ? new byte[Math.max(unread + more, input.length * 2)] : input;
    System.arraycopy(input, start, target, 0, unread);
    input = target;
    scanned = Math.max(scanned, start) - start;
    end = unread;
    start = 0;
  }

  private void fail(String why) {
    finished = true;
    failureHandler.accept(why);
  }
}
