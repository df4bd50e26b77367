package io.switchboard.protocol;

import io.vertx.core.buffer.Buffer;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link GenerateRequest} in the binary plane format ({@link PlaneWire}), after the header:
 * <pre>
 * int flags                   which nullable fields follow (the bits below)
 * string requestId, string model, byte kind (0 chat, 1 completion, 2 embedding)
 * json body, string prompt
 * [sampling] double temperature, double topP, int stopCount, string stop*,
 *            [int maxTokens] [long seed] [int tokenCap]
 * long deadlineEpochMs
 * [string traceparent] [string tracestate]
 * string resume.text, int resume.completionTokens
 * [string gatewayNodeId]
 * string replyAddress, int initialCredits
 * [native] string dialect, json body
 * </pre>
 * Only the client's bodies are JSON text; the rest is read without a JSON parser. Delivered in the same node, the
 * request itself is passed on (it is immutable; the same-node path shares it too).
 */
public final class GenerateRequestCodec extends PlaneMessageCodec<GenerateRequest> {

  public static final String NAME = "switchboard.plane.request";

  private static final int SAMPLING = 1;
  private static final int MAX_TOKENS = 1 << 1;
  private static final int SEED = 1 << 2;
  private static final int TOKEN_CAP = 1 << 3;
  private static final int TRACEPARENT = 1 << 4;
  private static final int TRACESTATE = 1 << 5;
  private static final int GATEWAY_NODE = 1 << 6;
  private static final int NATIVE = 1 << 7;

  public GenerateRequestCodec() {
    super(NAME);
  }

  @Override
  public void encodeToWire(Buffer buffer, GenerateRequest request) {
    SamplingParams sampling = request.sampling();
    TraceContext trace = request.trace();
    NativeForm nativeForm = request.nativeForm();
    int flags = (sampling != null ? SAMPLING : 0)
        | (sampling != null && sampling.maxTokens() != null ? MAX_TOKENS : 0)
        | (sampling != null && sampling.seed() != null ? SEED : 0)
        | (sampling != null && sampling.tokenCap() != null ? TOKEN_CAP : 0)
        | (trace.traceparent() != null ? TRACEPARENT : 0)
        | (trace.tracestate() != null ? TRACESTATE : 0)
        | (request.gatewayNodeId() != null ? GATEWAY_NODE : 0)
        | (nativeForm != null ? NATIVE : 0);
    PlaneWireWriter out = PlaneWireWriter.begin(buffer, PlaneWire.REQUEST, request.streamId())
        .writeInt(flags)
        .string(request.requestId())
        .string(request.model())
        .writeByte(kindCode(request.kind()))
        .json(request.body())
        .string(request.prompt());
    if (sampling != null) {
      out.writeDouble(sampling.temperature()).writeDouble(sampling.topP()).writeInt(sampling.stop().size());
      for (String stop : sampling.stop()) {
        out.string(stop);
      }
      if (sampling.maxTokens() != null) {
        out.writeInt(sampling.maxTokens());
      }
      if (sampling.seed() != null) {
        out.writeLong(sampling.seed());
      }
      if (sampling.tokenCap() != null) {
        out.writeInt(sampling.tokenCap());
      }
    }
    out.writeLong(request.deadlineEpochMs());
    if (trace.traceparent() != null) {
      out.string(trace.traceparent());
    }
    if (trace.tracestate() != null) {
      out.string(trace.tracestate());
    }
    out.string(request.resume().text()).writeInt(request.resume().completionTokens());
    if (request.gatewayNodeId() != null) {
      out.string(request.gatewayNodeId());
    }
    out.string(request.replyAddress()).writeInt(request.initialCredits());
    if (nativeForm != null) {
      out.string(nativeForm.dialect()).json(nativeForm.body());
    }
    out.end();
  }

  @Override
  public GenerateRequest decodeFromWire(int pos, Buffer buffer) {
    PlaneWireReader in = PlaneWireReader.begin(buffer, pos, PlaneWire.REQUEST, "generate request");
    int flags = in.readInt();
    String requestId = in.string();
    String model = in.string();
    RequestKind kind = kind(in, in.readByte());
    var body = in.json();
    String prompt = in.string();
    SamplingParams sampling = null;
    if ((flags & SAMPLING) != 0) {
      double temperature = in.readDouble();
      double topP = in.readDouble();
      int stops = in.readInt();
      if (stops < 0) {
        throw in.unreadable("negative count of stop sequences: " + stops);
      }
      List<String> stop = new ArrayList<>(Math.min(stops, 64));
      for (int i = 0; i < stops; i++) {
        stop.add(in.string());
      }
      Integer maxTokens = (flags & MAX_TOKENS) != 0 ? in.readInt() : null;
      Long seed = (flags & SEED) != 0 ? in.readLong() : null;
      Integer tokenCap = (flags & TOKEN_CAP) != 0 ? in.readInt() : null;
      sampling = new SamplingParams(maxTokens, temperature, topP, stop, seed, tokenCap);
    }
    long deadline = in.readLong();
    String traceparent = (flags & TRACEPARENT) != 0 ? in.string() : null;
    String tracestate = (flags & TRACESTATE) != 0 ? in.string() : null;
    TraceContext trace = traceparent == null && tracestate == null ? TraceContext.NONE
        : new TraceContext(traceparent, tracestate);
    String resumeText = in.string();
    int resumeTokens = in.readInt();
    ResumeState resume = resumeText.isEmpty() && resumeTokens == 0 ? ResumeState.EMPTY
        : new ResumeState(resumeText, resumeTokens);
    String gatewayNodeId = (flags & GATEWAY_NODE) != 0 ? in.string() : null;
    String replyAddress = in.string();
    int initialCredits = in.readInt();
    NativeForm nativeForm = (flags & NATIVE) != 0 ? new NativeForm(in.string(), in.json()) : null;
    return new GenerateRequest(in.streamId(), requestId, model, kind, body, prompt, sampling, deadline, trace, resume,
        gatewayNodeId, replyAddress, initialCredits, nativeForm);
  }

  private static int kindCode(RequestKind kind) {
    return switch (kind) {
      case CHAT -> 0;
      case COMPLETION -> 1;
      case EMBEDDING -> 2;
    };
  }

  private static RequestKind kind(PlaneWireReader in, int code) {
    return switch (code) {
      case 0 -> RequestKind.CHAT;
      case 1 -> RequestKind.COMPLETION;
      case 2 -> RequestKind.EMBEDDING;
      default -> throw in.unreadable("unknown request kind " + code);
    };
  }
}
