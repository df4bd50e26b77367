package io.switchboard.worker.llamacpp;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Writes a tiny llama model with random weights as GGUF (version 3), for tests that need a real llama-server to
 * load something in a second: the tokenizer (vocabulary, scores, token types, special ids) is copied from one
 * of llama.cpp's vocab-only files ({@code models/ggml-vocab-llama-spm.gguf}), the rest is made up: embedding
 * 64, 2 layers, all tensors F32. It answers nonsense, with real tokens, at real speed. Never committed: tests
 * write it under target/.
 */
public final class TinyLlamaModel {

  public static final int EMBEDDING = 64;
  public static final int LAYERS = 2;
  public static final int HEADS = 4;
  public static final int FEED_FORWARD = 128;
  public static final int CONTEXT = 2048;
  private static final int ALIGNMENT = 32;
  private static final String CHATML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
      + "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
      + "{{ '<|im_start|>assistant\\n' }}{% endif %}";

  // GGUF value types.
  private static final int UINT32 = 4;
  private static final int INT32 = 5;
  private static final int FLOAT32 = 6;
  private static final int BOOL = 7;
  private static final int STRING = 8;
  private static final int ARRAY = 9;
  private static final int UINT64 = 10;
  private static final int INT64 = 11;
  private static final int FLOAT64 = 12;
  private static final int[] SCALAR_SIZES = {1, 1, 2, 2, 4, 4, 4, 1, -1, -1, 8, 8, 8};

  private TinyLlamaModel() {
  }

  /** A value read from or written to GGUF metadata, with its type (arrays keep their element type). */
  private record Value(int type, Object value, int elementType) {
  }

  /** Writes the model to {@code target} with the tokenizer of {@code vocabGguf}; same seed, same bytes. */
  public static Path write(Path vocabGguf, Path target, long seed) throws IOException {
    Map<String, Value> metadata = new LinkedHashMap<>();
    metadata.put("general.architecture", new Value(STRING, "llama", 0));
    metadata.put("general.name", new Value(STRING, "switchboard-tiny-llama", 0));
    metadata.put("general.alignment", new Value(UINT32, ALIGNMENT, 0));
    metadata.put("llama.context_length", new Value(UINT32, CONTEXT, 0));
    metadata.put("llama.embedding_length", new Value(UINT32, EMBEDDING, 0));
    metadata.put("llama.block_count", new Value(UINT32, LAYERS, 0));
    metadata.put("llama.feed_forward_length", new Value(UINT32, FEED_FORWARD, 0));
    metadata.put("llama.attention.head_count", new Value(UINT32, HEADS, 0));
    metadata.put("llama.attention.head_count_kv", new Value(UINT32, HEADS, 0));
    metadata.put("llama.rope.dimension_count", new Value(UINT32, EMBEDDING / HEADS, 0));
    metadata.put("llama.attention.layer_norm_rms_epsilon", new Value(FLOAT32, 1e-5f, 0));
    int vocabSize = 0;
    for (Map.Entry<String, Value> entry : readMetadata(vocabGguf).entrySet()) {
      if (entry.getKey().startsWith("tokenizer.")) {
        metadata.put(entry.getKey(), entry.getValue());
        if (entry.getKey().equals("tokenizer.ggml.tokens")) {
          vocabSize = ((List<?>) entry.getValue().value()).size();
        }
      }
    }
    if (vocabSize == 0) {
      throw new IOException(vocabGguf + " holds no tokenizer.ggml.tokens");
    }
    metadata.put("tokenizer.chat_template", new Value(STRING, CHATML, 0));

    List<Tensor> tensors = new ArrayList<>();
    tensors.add(new Tensor("token_embd.weight", EMBEDDING, vocabSize));
    tensors.add(new Tensor("output_norm.weight", EMBEDDING));
    tensors.add(new Tensor("output.weight", EMBEDDING, vocabSize));
    for (int layer = 0; layer < LAYERS; layer++) {
      String block = "blk." + layer + ".";
      tensors.add(new Tensor(block + "attn_norm.weight", EMBEDDING));
      tensors.add(new Tensor(block + "attn_q.weight", EMBEDDING, EMBEDDING));
      tensors.add(new Tensor(block + "attn_k.weight", EMBEDDING, EMBEDDING));
      tensors.add(new Tensor(block + "attn_v.weight", EMBEDDING, EMBEDDING));
      tensors.add(new Tensor(block + "attn_output.weight", EMBEDDING, EMBEDDING));
      tensors.add(new Tensor(block + "ffn_norm.weight", EMBEDDING));
      tensors.add(new Tensor(block + "ffn_gate.weight", EMBEDDING, FEED_FORWARD));
      tensors.add(new Tensor(block + "ffn_up.weight", EMBEDDING, FEED_FORWARD));
      tensors.add(new Tensor(block + "ffn_down.weight", FEED_FORWARD, EMBEDDING));
    }

    Files.createDirectories(target.toAbsolutePath().getParent());
    try (CountingOutput out = new CountingOutput(new BufferedOutputStream(Files.newOutputStream(target), 1 << 16))) {
      out.bytes("GGUF".getBytes(StandardCharsets.US_ASCII));
      out.u32(3);
      out.u64(tensors.size());
      out.u64(metadata.size());
      for (Map.Entry<String, Value> entry : metadata.entrySet()) {
        out.string(entry.getKey());
        out.u32(entry.getValue().type());
        writeValue(out, entry.getValue());
      }
      long offset = 0;
      for (Tensor tensor : tensors) {
        out.string(tensor.name);
        out.u32(tensor.dims.length);
        for (long dim : tensor.dims) {
          out.u64(dim);
        }
        out.u32(0); // F32
        out.u64(offset);
        offset = align(offset + tensor.bytes());
      }
      out.pad();
      Random random = new Random(seed);
      for (Tensor tensor : tensors) {
        boolean norm = tensor.dims.length == 1;
        ByteBuffer data = ByteBuffer.allocate((int) tensor.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < tensor.elements(); i++) {
          // Norm weights near 1 and small matrices keep activations finite through the layers.
          data.putFloat(norm ? 1.0f : (float) (random.nextGaussian() * 0.05));
        }
        out.bytes(data.array());
        out.pad();
      }
    }
    return target;
  }

  private static long align(long offset) {
    return (offset + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
  }

  private static final class Tensor {
    final String name;
    final long[] dims;

    Tensor(String name, long... dims) {
      this.name = name;
      this.dims = dims;
    }

    long elements() {
      long n = 1;
      for (long dim : dims) {
        n *= dim;
      }
      return n;
    }

    long bytes() {
      return elements() * 4;
    }
  }

  private static Map<String, Value> readMetadata(Path gguf) throws IOException {
    try (InputStream file = Files.newInputStream(gguf)) {
      LittleEndianInput in = new LittleEndianInput(new DataInputStream(new java.io.BufferedInputStream(file)));
      byte[] magic = in.bytes(4);
      if (!"GGUF".equals(new String(magic, StandardCharsets.US_ASCII))) {
        throw new IOException(gguf + " is not a GGUF file");
      }
      int version = in.u32();
      if (version < 2) {
        throw new IOException(gguf + " is GGUF version " + version + "; 2 or later is needed");
      }
      in.u64(); // tensor count
      long kvCount = in.u64();
      Map<String, Value> metadata = new LinkedHashMap<>();
      for (long i = 0; i < kvCount; i++) {
        String key = in.string();
        int type = in.u32();
        metadata.put(key, readValue(in, type));
      }
      return metadata;
    }
  }

  private static Value readValue(LittleEndianInput in, int type) throws IOException {
    if (type == ARRAY) {
      int elementType = in.u32();
      long count = in.u64();
      List<Object> items = new ArrayList<>((int) count);
      for (long i = 0; i < count; i++) {
        items.add(readValue(in, elementType).value());
      }
      return new Value(ARRAY, items, elementType);
    }
    if (type == STRING) {
      return new Value(STRING, in.string(), 0);
    }
    if (type < 0 || type >= SCALAR_SIZES.length || SCALAR_SIZES[type] < 0) {
      throw new IOException("unknown GGUF value type " + type);
    }
    // Scalars are kept as their raw little-endian bytes: copied through unchanged.
    return new Value(type, in.bytes(SCALAR_SIZES[type]), 0);
  }

  private static void writeValue(CountingOutput out, Value value) throws IOException {
    switch (value.type()) {
      case ARRAY -> {
        List<?> items = (List<?>) value.value();
        out.u32(value.elementType());
        out.u64(items.size());
        for (Object item : items) {
          writeValue(out, new Value(value.elementType(), item, 0));
        }
      }
      case STRING -> out.string((String) value.value());
      default -> {
        if (value.value() instanceof byte[] raw) {
          out.bytes(raw);
        } else if (value.type() == UINT32 || value.type() == INT32) {
          out.u32(((Number) value.value()).intValue());
        } else if (value.type() == FLOAT32) {
          out.bytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat((Float) value.value()).array());
        } else if (value.type() == BOOL) {
          out.bytes(new byte[] {(byte) (((Boolean) value.value()) ? 1 : 0)});
        } else if (value.type() == UINT64 || value.type() == INT64 || value.type() == FLOAT64) {
          out.u64(((Number) value.value()).longValue());
        } else {
          throw new IOException("cannot write GGUF value type " + value.type());
        }
      }
    }
  }

  private static final class LittleEndianInput {
    private final DataInputStream in;

    LittleEndianInput(DataInputStream in) {
      this.in = in;
    }

    byte[] bytes(int n) throws IOException {
      byte[] bytes = new byte[n];
      in.readFully(bytes);
      return bytes;
    }

    int u32() throws IOException {
      return ByteBuffer.wrap(bytes(4)).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    long u64() throws IOException {
      return ByteBuffer.wrap(bytes(8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    String string() throws IOException {
      long length = u64();
      if (length < 0 || length > 1 << 20) {
        throw new IOException("implausible GGUF string length " + length);
      }
      return new String(bytes((int) length), StandardCharsets.UTF_8);
    }
  }

  private static final class CountingOutput implements AutoCloseable {
    private final OutputStream out;
    private long written;

    CountingOutput(OutputStream out) {
      this.out = out;
    }

    void bytes(byte[] bytes) throws IOException {
      out.write(bytes);
      written += bytes.length;
    }

    void u32(int value) throws IOException {
      bytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array());
    }

    void u64(long value) throws IOException {
      bytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array());
    }

    void string(String value) throws IOException {
      byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
      u64(utf8.length);
      bytes(utf8);
    }

    void pad() throws IOException {
      int padding = (int) ((ALIGNMENT - written % ALIGNMENT) % ALIGNMENT);
      bytes(new byte[padding]);
    }

    @Override
    public void close() throws IOException {
      out.close();
    }
  }
}
