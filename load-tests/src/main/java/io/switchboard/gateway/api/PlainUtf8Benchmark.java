package io.switchboard.gateway.api;

import io.switchboard.bench.jmh.SameOutput;
import io.switchboard.bench.jmh.SampleChat;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.Json;
import io.switchboard.bench.jmh.FastPathBenchmark;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;

/**
 * Reading a client's body as strict UTF-8 JSON, as the gateway does for every request: its fast path,
 * {@link RequestValidator#parseObject} ({@link PlainUtf8}'s check of the bytes, then Jackson's byte parser), against
 * the library way it replaced, Java's strict UTF-8 decoder making the body's text and Jackson parsing that text. Both
 * read the same object (checked in the set-up; PlainUtf8Test is the differential test, against Java's decoder).
 * Bodies, as body-bench's: the one-line chat of compare, 20 KB conversations in ASCII and in non-ASCII text.
 *
 * <p>In this package to reach {@link PlainUtf8}, which is package-private. Run: {@code load-tests/bin/utf8-bench}.
 */
public class PlainUtf8Benchmark extends FastPathBenchmark {

  @Param({"one-line", "chat-20k-ascii", "chat-20k-unicode"})
  public String body;

  private Buffer raw;

  @Setup
  public void setUp() throws CharacterCodingException {
    raw = SampleChat.clientBody(body);
    if (!PlainUtf8.check(raw.getBytes())) {
      throw new IllegalStateException(body + ": the body should take the fast path");
    }
    SameOutput.require(body, jdkDecoder(), fast());
  }

  /** As the gateway read every body before PlainUtf8: the strict decoder's text, parsed. */
  @Benchmark
  public Object jdkDecoder() throws CharacterCodingException {
    String text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(raw.getBytes())).toString();
    return Json.decodeValue(text.startsWith("\uFEFF") ? text.substring(1) : text);
  }

  @Benchmark
  public Object fast() {
    return RequestValidator.parseObject(raw);
  }
}
