package io.switchboard.worker.openai;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.Usage;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

/**
 * The part of a {@link StreamingCall} that depends on the API the backend is asked in: where the request goes, what
 * it sends, how its events read, and how its failures are worded. One per generation. The rest (sending, the retry,
 * the idle watchdog, backpressure, batching text, ending) is the same for every API and stays in the call.
 */
public interface StreamApi {

  /** The request that opens the stream; the call adds the request id and the trace context. */
  RequestOptions request();

  /** The body sent; asked again when the call sends it again. */
  JsonObject body();

  /**
   * Streamed tokens at which the call ends the stream itself ("length"), for a limit the body could not carry;
   * 0 when the backend stops by itself.
   */
  int watchAt();

  /**
   * The reader of this stream's events, once per call: it gets each event's data (untrimmed) while the call is not
   * done, and tells {@code out} what it says.
   */
  SseEventReader.DataHandler events(Events out);

  /** The backend as named in the errors of its HTTP status ({@link BackendErrors}). */
  String errorSource();

  /** Why the call failed when the backend sent nothing for {@code idleTimeoutMs}. */
  String silenceMessage(long idleTimeoutMs);

  /** Why the call failed when the stream ended before it said how the answer ended. */
  String unfinishedMessage();

  /** What an API's event reader tells the call. */
  interface Events {

    /**
     * One token's text, with what goes beside it (tool calls, reasoning, logprobs) or null: text without anything
     * beside it waits to go on with the other text of the same read.
     */
    void token(String text, JsonObject extra);

    /** The token counts so far; the last one told holds. */
    void usage(Usage usage);

    /** How the answer ended, as the backend said; the stream is still read to its end (or {@link #finish()}). */
    void finishReason(String reason);

    /** The answer is complete: it ends now, and what the backend still sends is dropped. */
    void finish();

    /** The stream cannot go on; {@code message} names the backend. */
    void fail(GenerateError.Code code, String message);

    /** An event's data is not JSON, which every API's events are: the stream cannot go on. */
    void notJson(String data);
  }
}
