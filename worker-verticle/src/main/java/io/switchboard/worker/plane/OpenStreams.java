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
 * A plane server's open streams: each request is submitted to the worker's {@link GenerationRunner} with the
 * sender its chunks go out through, filed by stream id until the stream closes (or at once unfiled if the runner
 * refuses it), so the gateway's credits reach the right sender. Used only on the worker's context.
 */
final class OpenStreams<S extends CreditedChunkSender> {

  private static final Logger log = LoggerFactory.getLogger(OpenStreams.class);

  private final GenerationRunner runner;
  private final String workerId;
  private final Map<String, S> senders = new HashMap<>();

  OpenStreams(GenerationRunner runner, String workerId) {
    this.runner = runner;
    this.workerId = workerId;
  }

  /** Null when the runner took the request; else why it refused (logged here). */
  GenerateError submit(GenerateRequest request, S sender) {
    String streamId = request.streamId();
    senders.put(streamId, sender);
    GenerateError refused = runner.submit(request, sender, () -> senders.remove(streamId));
    if (refused != null) {
      senders.remove(streamId);
      log.info("generate request refused", kv("requestId", request.requestId()), kv("workerId", workerId),
          kv("code", refused.code().name()), kv("reason", refused.message()));
    }
    return refused;
  }

  /** The gateway took chunks of this stream and grants room for more (ignored once the stream closed). */
  void grant(String streamId, int credits) {
    S sender = senders.get(streamId);
    if (sender != null) {
      sender.grant(credits);
    }
  }
}
