package io.switchboard.worker.mocker;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.Usage;
import io.switchboard.worker.engine.ChunkSink;
import io.switchboard.worker.engine.Engine;
import io.switchboard.worker.engine.Generation;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * A simulated model (like Dynamo's mocker): deterministic text, real token counts, a prefix (KV) cache of token
 * blocks, prefill time proportional to the prompt tokens not found in that cache (prompts computed one after
 * another, as compute-bound prefill is on a GPU), decode speed shared among concurrent streams. Lets
 * everything above the engine, the router above all, be tested and benchmarked without a GPU.
 */
public class MockerEngine implements Engine {

  public static final String KIND = "mocker";

  private final Vertx vertx;
  private final MockerOptions options;
  private final String workerId;
  private final int contextLength;
  private final String model;
  private final MockEmbeddings embeddings;
  private final KvBlockCache kvCache;
  private final PrefillCompute prefill = new PrefillCompute();
  private int active;

  public MockerEngine(Vertx vertx, MockerOptions options, String workerId, int contextLength) {
    this(vertx, options, workerId, contextLength, null);
  }

  /** @param model the served model, which also answers embeddings unless {@code embeddingDimensions} is 0 */
  public MockerEngine(Vertx vertx, MockerOptions options, String workerId, int contextLength, String model) {
    this.vertx = vertx;
    this.options = options;
    this.workerId = workerId;
    this.contextLength = contextLength;
    this.model = model;
    this.embeddings = new MockEmbeddings(options.getEmbeddingDimensions(), options.getSeed());
    this.kvCache = new KvBlockCache(options.getKvBlockSize(), options.getKvCacheBlocks());
  }

  @Override
  public List<String> embeddingModels() {
    return model == null || options.getEmbeddingDimensions() == 0 ? List.of() : List.of(model);
  }

  @Override
  public String kind() {
    return KIND;
  }

  @Override
  public Future<Void> start() {
    return Future.succeededFuture();
  }

  @Override
  public Generation generate(GenerateRequest request, ChunkSink sink) {
    if (request.kind() == RequestKind.EMBEDDING) {
      return embed(request, sink);
    }
    String context = request.prompt() + request.resume().text();
    int promptTokens = WordTokenizer.count(request.prompt());
    Integer maxTokens = request.sampling().maxTokens();
    // max_tokens bounds the whole answer, a resumed part included; without it, what is known is the text so far.
    int contextTokens = maxTokens != null ? promptTokens + maxTokens : WordTokenizer.count(context);
    if (contextTokens > contextLength) {
      sink.fail(GenerateError.of(GenerateError.Code.INVALID_REQUEST,
          "this model's context length is " + contextLength + " tokens, but the request needs " + contextTokens
              + " (" + promptTokens + " in the prompt plus max_tokens " + maxTokens
              + "); shorten the prompt or lower max_tokens", workerId));
      return () -> { };
    }
    long seed = request.sampling().seed() != null ? request.sampling().seed() : options.getSeed();
    MockText text = new MockText(seed, request.prompt());
    // Without the client's limit the answer has its natural length, which the gateway's cap bounds too.
    Integer cap = request.sampling().tokenCap();
    int natural = text.naturalLength(options.getMinAnswerTokens(), options.getMaxAnswerTokens());
    int total = maxTokens != null ? maxTokens : cap != null ? Math.min(natural, cap) : natural;
    String modelInput = modelInput(request);
    long[] contextBlocks = kvCache.blockHashes(WordTokenizer.hashes(modelInput));
    int contextTokenCount = WordTokenizer.count(modelInput);
    int cached = kvCache.cachedPrefixTokens(contextBlocks, contextTokenCount);
    kvCache.store(contextBlocks);
    long prefillNanos = perTokenNanos(options.getPrefillTokensPerSecond()) * (contextTokenCount - cached);
    long firstTokenDue = prefill.book(prefillNanos);
    active++;
    MockGeneration generation = new MockGeneration(vertx, this, request, modelInput, sink, text,
        new Usage(promptTokens, 0, Math.min(cached, promptTokens)), total, maxTokens != null || total < natural,
        firstTokenDue, prefillNanos);
    generation.start();
    return generation;
  }

  /**
   * What the simulated model computes before its first new token: the prompt, for chat followed by the
   * assistant turn's opening (what a chat template's generation prompt adds, so that the next turn, which
   * repeats this answer after "assistant: ", reuses the cached blocks), then any text generated before a resume.
   */
  private static String modelInput(GenerateRequest request) {
    String opening = request.kind() == RequestKind.CHAT ? "assistant: " : "";
    return request.prompt() + opening + request.resume().text();
  }

  /** Answers at once: embedding is one forward pass, and the mocker's prefill speed would only add noise. */
  private Generation embed(GenerateRequest request, ChunkSink sink) {
    Integer asked = request.body().getInteger("dimensions");
    int size = asked == null ? embeddings.dimensions() : asked;
    if (embeddings.dimensions() == 0 || size > embeddings.dimensions()) {
      sink.fail(GenerateError.of(GenerateError.Code.INVALID_REQUEST, "this model's embeddings have "
          + embeddings.dimensions() + " dimensions; 'dimensions' " + size + " is more", workerId));
      return () -> { };
    }
    boolean base64 = "base64".equals(request.body().getString("encoding_format"));
    JsonArray data = new JsonArray();
    int tokens = 0;
    List<String> inputs = MockEmbeddings.inputs(request.body());
    for (int i = 0; i < inputs.size(); i++) {
      data.add(MockEmbeddings.entry(i, embeddings.embed(inputs.get(i), size), base64));
      tokens += WordTokenizer.count(inputs.get(i));
    }
    sink.end("", 0, "stop", new Usage(tokens, 0), new JsonObject().put("result", new JsonObject()
        .put("object", "list").put("data", data).put("model", request.model())));
    return () -> { };
  }

  /** Nanoseconds per decoded token for one stream now, given how many share the worker. */
  long decodeIntervalNanos() {
    long base = perTokenNanos(options.getDecodeTokensPerSecond());
    return (long) (base * (1.0 + options.getBatchSlowdown() * Math.max(0, active - 1)));
  }

  void finished() {
    active--;
  }

  /** The answer's KV blocks stay cached too: a follow-up turn that repeats it reuses them. */
  void computed(String modelInput, CharSequence answer) {
    kvCache.store(kvCache.blockHashes(WordTokenizer.hashes(modelInput + answer)));
  }

  /** A generation cancelled before its prefill ran gives its booked compute back. */
  void prefillCancelled(long doneAtNanos, long workNanos) {
    prefill.refund(doneAtNanos, workNanos);
  }

  @Override
  public JsonObject status() {
    return new JsonObject()
        .put("prefixCache", kvCache.status())
        .put("prefillBacklogMs", prefill.backlogNanos() / 1_000_000);
  }

  String workerId() {
    return workerId;
  }

  private static long perTokenNanos(double tokensPerSecond) {
    return tokensPerSecond <= 0 ? 0 : (long) (1_000_000_000L / tokensPerSecond);
  }

  @Override
  public Future<Void> stop() {
    return Future.succeededFuture();
  }
}
