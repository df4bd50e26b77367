package io.switchboard.worker.mocker;

import io.switchboard.runtime.config.GenerateOptions;
import io.switchboard.runtime.config.OptionChecks;

/**
 * Settings of the mocker engine, a simulated model with realistic timing: a prefill phase whose length grows
 * with the prompt, then a decode phase whose per-stream speed drops as more streams share the worker.
 */
@GenerateOptions
public abstract class MockerOptionsSpec {

  /** Prompt tokens processed per second before the first token; 0 makes prefill instant. */
  public static final double DEFAULT_PREFILL_TOKENS_PER_SECOND = 5000;
  /** Tokens per second of one stream running alone; 0 makes decoding instant (a zero-latency backend). */
  public static final double DEFAULT_DECODE_TOKENS_PER_SECOND = 50;
  /** Each extra concurrent stream slows every stream's decode by this fraction. */
  public static final double DEFAULT_BATCH_SLOWDOWN = 0.03;
  /** Seed of the deterministic text. */
  public static final long DEFAULT_SEED = 42;
  /** Bounds of the answer length when the client sets no max_tokens. */
  public static final int DEFAULT_MIN_ANSWER_TOKENS = 16;
  public static final int DEFAULT_MAX_ANSWER_TOKENS = 64;
  /** Length of the mocker's embedding vectors; 0 serves no embeddings. */
  public static final int DEFAULT_EMBEDDING_DIMENSIONS = 256;
  /** Tokens per block of the simulated prefix (KV) cache; only whole blocks are cached, as in vLLM. */
  public static final int DEFAULT_KV_BLOCK_SIZE = 16;
  /** Blocks the simulated prefix cache holds (LRU beyond that); 0 turns prefix caching off. */
  public static final int DEFAULT_KV_CACHE_BLOCKS = 4096;

  double prefillTokensPerSecond = DEFAULT_PREFILL_TOKENS_PER_SECOND;
  double decodeTokensPerSecond = DEFAULT_DECODE_TOKENS_PER_SECOND;
  double batchSlowdown = DEFAULT_BATCH_SLOWDOWN;
  long seed = DEFAULT_SEED;
  int minAnswerTokens = DEFAULT_MIN_ANSWER_TOKENS;
  int maxAnswerTokens = DEFAULT_MAX_ANSWER_TOKENS;
  int embeddingDimensions = DEFAULT_EMBEDDING_DIMENSIONS;
  int kvBlockSize = DEFAULT_KV_BLOCK_SIZE;
  int kvCacheBlocks = DEFAULT_KV_CACHE_BLOCKS;

  /** Fails with a message naming the key under {@code path} and what it accepts. */
  public void validate(String path) {
    OptionChecks.finiteNonNegative(path + ".prefillTokensPerSecond", prefillTokensPerSecond, " (0 = instant)");
    OptionChecks.finiteNonNegative(path + ".decodeTokensPerSecond", decodeTokensPerSecond, " (0 = instant)");
    OptionChecks.finiteNonNegative(path + ".batchSlowdown", batchSlowdown);
    if (minAnswerTokens < 1 || maxAnswerTokens < minAnswerTokens) {
      throw new IllegalArgumentException(path + ".minAnswerTokens and " + path + ".maxAnswerTokens must satisfy "
          + "1 <= minAnswerTokens <= maxAnswerTokens, got " + minAnswerTokens + " and " + maxAnswerTokens);
    }
    if (embeddingDimensions < 0 || embeddingDimensions > 8192) {
      throw new IllegalArgumentException(path + ".embeddingDimensions must be between 0 (no embeddings) and 8192, got "
          + embeddingDimensions);
    }
    if (kvBlockSize < 1 || kvBlockSize > 1024) {
      throw new IllegalArgumentException(path + ".kvBlockSize must be between 1 and 1024 tokens, got " + kvBlockSize);
    }
    if (kvCacheBlocks < 0 || kvCacheBlocks > 10_000_000) {
      throw new IllegalArgumentException(path + ".kvCacheBlocks must be between 0 (no prefix cache) and 10000000, got "
          + kvCacheBlocks);
    }
  }
}
