package io.switchboard.worker.plane;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.worker.runner.GenerationRunner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * A credited plane server's open streams: each request is submitted to the worker's {@link GenerationRunner} with a
 * {@link ChunkSender} over the stream's {@link CreditedChannel}, filed by stream id until the stream closes (or at once
 * unfiled if the runner refuses it), so the gateway's credits reach the right channel. Used only on the worker's
 * context.
 */
final class OpenStreams {

  private static final Logger log = LoggerFactory.getLogger(OpenStreams.class);

  private final GenerationRunner runner;
  private final String workerId;
  private final Map<String, CreditedChannel> channels = new HashMap<>();

  OpenStreams(GenerationRunner runner, String workerId) {
    this.runner = runner;
    this.workerId = workerId;
  }

  /** Null when the runner took the request; else why it refused (logged here). */
  GenerateError submit(GenerateRequest request, CreditedChannel channel) {
    String streamId = request.streamId();
    channels.put(streamId, channel);
    GenerateError refused = runner.submit(request, new ChunkSender(channel), () -> channels.remove(streamId));
    if (refused != null) {
      channels.remove(streamId);
      log.info("generate request refused", kv("requestId", request.requestId()), kv("workerId", workerId),
          kv("code", refused.code().name()), kv("reason", refused.message()));
    }
    return refused;
  }

  /** The gateway took chunks of this stream and grants room for more (ignored once the stream closed). */
  void grant(String streamId, int credits) {
    CreditedChannel channel = channels.get(streamId);
    if (channel != null) {
      channel.grant(credits);
    }
  }
}
