package io.switchboard.worker.mocker;

import io.switchboard.runtime.config.FiniteNonNegative;
import io.switchboard.runtime.config.GenerateOptions;

/**
 * Settings of the mocker engine, a simulated model with realistic timing: a prefill phase whose length grows
 * with the prompt, then a decode phase whose per-stream speed drops as more streams share the worker.
 */
@GenerateOptions
public abstract class MockerOptionsSpec {

  /** Tokens per second of one stream running alone; 0 makes decoding instant (a zero-latency backend). */
  public static final double DEFAULT_DECODE_TOKENS_PER_SECOND = 50;
  /** Length of the mocker's embedding vectors; 0 serves no embeddings. */
  public static final int DEFAULT_EMBEDDING_DIMENSIONS = 256;

  /** Prompt tokens processed per second before the first token; 0 makes prefill instant. */
  @FiniteNonNegative(meaning = " (0 = instant)")
  double prefillTokensPerSecond = 5000;
  @FiniteNonNegative(meaning = " (0 = instant)")
  double decodeTokensPerSecond = DEFAULT_DECODE_TOKENS_PER_SECOND;
  /** Each extra concurrent stream slows every stream's decode by this fraction. */
  @FiniteNonNegative
  double batchSlowdown = 0.03;
  /** Seed of the deterministic text. */
  long seed = 42;
  /** Bounds of the answer length when the client sets no max_tokens. */
  int minAnswerTokens = 16;
  int maxAnswerTokens = 64;
  int embeddingDimensions = DEFAULT_EMBEDDING_DIMENSIONS;
  /** Tokens per block of the simulated prefix (KV) cache; only whole blocks are cached, as in vLLM. */
  int kvBlockSize = 16;
  /** Blocks the simulated prefix cache holds (LRU beyond that); 0 turns prefix caching off. */
  int kvCacheBlocks = 4096;

  /** Fails with a message naming the key under {@code path} and what it accepts. */
  public void validate(String path) {
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
