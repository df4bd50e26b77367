package io.switchboard.bench.jmh;

import io.switchboard.gateway.api.CompletionRequest;
import io.switchboard.gateway.api.RequestValidator;
import io.switchboard.protocol.RequestKind;
import io.vertx.core.buffer.Buffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Reading and checking a client's chat body, as the gateway does for every request before it routes it: the
 * strict UTF-8 check, the JSON parse and the OpenAI field checks. Bodies: the one-line chat of the compare
 * benchmark; a 40-turn conversation of about 20 KB in ASCII; the same with non-ASCII text in every message.
 *
 * <p>Run: {@code load-tests/bin/body-bench}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class RequestBodyBenchmark {

  @Param({"one-line", "chat-20k-ascii", "chat-20k-unicode"})
  public String body;

  private final RequestValidator validator = new RequestValidator();
  private Buffer raw;

  @Setup
  public void setUp() {
    raw = SampleChat.clientBody(body);
  }

  @Benchmark
  public CompletionRequest validate() {
    return validator.validate(RequestKind.CHAT, raw);
  }
}
