package io.switchboard.protocol;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link GenerateRequest} in the binary plane format ({@link PlaneWire}), after the header:
 * <pre>
 * int presence                which nullable fields follow: bit i for the i-th field in [brackets] below
 * string requestId, string model, byte kind (0 chat, 1 completion, 2 embedding)
 * json body, string prompt
 * [sampling] double temperature, double topP, int stopCount, string stop*,
 *            [int maxTokens] [long seed] [int tokenCap]     (their bits are unset without sampling)
 * long deadlineEpochMs
 * [string traceparent] [string tracestate]
 * string resume.text, int resume.completionTokens
 * [string gatewayNodeId]
 * string replyAddress, int initialCredits
 * [native] string dialect, json body
 * </pre>
 * The bits are taken in the order the fields are written ({@link PlaneWireWriter}): a new nullable field goes last.
 * Only the client's bodies are JSON text; the rest is read without a JSON parser. Delivered in the same node, the
 * request itself is passed on (it is immutable; the same-node path shares it too).
 */
public final class GenerateRequestCodec extends PlaneMessageCodec<GenerateRequest> {

  /** The bits of sampling's nullable numbers (maxTokens, seed, tokenCap), taken unset when there is no sampling. */
  private static final int SAMPLING_NUMBERS = 3;

  public GenerateRequestCodec() {
    super(PlaneMessageKind.REQUEST);
  }

  @Override
  void write(PlaneWireWriter out, GenerateRequest request) {
    out.presenceInt()
        .string(request.requestId())
        .string(request.model())
        .writeByte(kindCode(request.kind()))
        .json(request.body())
        .string(request.prompt());
    SamplingParams sampling = request.sampling();
    if (out.optional(sampling != null)) {
      out.writeDouble(sampling.temperature()).writeDouble(sampling.topP()).writeInt(sampling.stop().size());
      for (String stop : sampling.stop()) {
        out.string(stop);
      }
      out.optionalInt(sampling.maxTokens()).optionalLong(sampling.seed()).optionalInt(sampling.tokenCap());
    } else {
      out.skipOptional(SAMPLING_NUMBERS);
    }
    out.writeLong(request.deadlineEpochMs())
        .optionalString(request.trace().traceparent())
        .optionalString(request.trace().tracestate())
        .string(request.resume().text())
        .writeInt(request.resume().completionTokens())
        .optionalString(request.gatewayNodeId())
        .string(request.replyAddress())
        .writeInt(request.initialCredits());
    NativeForm nativeForm = request.nativeForm();
    if (out.optional(nativeForm != null)) {
      out.string(nativeForm.dialect()).json(nativeForm.body());
    }
  }

  @Override
  GenerateRequest read(PlaneWireReader in) {
    in.presenceInt();
    String requestId = in.string();
    String model = in.string();
    RequestKind kind = kind(in, in.readByte());
    var body = in.json();
    String prompt = in.string();
    SamplingParams sampling = null;
    if (in.optional()) {
      sampling = sampling(in);
    } else {
      in.skipOptional(SAMPLING_NUMBERS);
    }
    long deadline = in.readLong();
    String traceparent = in.optionalString();
    String tracestate = in.optionalString();
    TraceContext trace = traceparent == null && tracestate == null ? TraceContext.NONE
        : new TraceContext(traceparent, tracestate);
    String resumeText = in.string();
    int resumeTokens = in.readInt();
    ResumeState resume = resumeText.isEmpty() && resumeTokens == 0 ? ResumeState.EMPTY
        : new ResumeState(resumeText, resumeTokens);
    String gatewayNodeId = in.optionalString();
    String replyAddress = in.string();
    int initialCredits = in.readInt();
    NativeForm nativeForm = in.optional() ? new NativeForm(in.string(), in.json()) : null;
    return new GenerateRequest(in.streamId(), requestId, model, kind, body, prompt, sampling, deadline, trace, resume,
        gatewayNodeId, replyAddress, initialCredits, nativeForm);
  }

  private static SamplingParams sampling(PlaneWireReader in) {
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
    Integer maxTokens = in.optionalInt();
    Long seed = in.optionalLong();
    Integer tokenCap = in.optionalInt();
    return new SamplingParams(maxTokens, temperature, topP, stop, seed, tokenCap);
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
