package io.switchboard.worker.mocker;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The mocker's embeddings: each word adds a few seeded ±1 components (feature hashing), and the vector is
 * normalised to length 1. Deterministic, cheap, and texts that share words are close, so anything built on
 * top (similarity search, tests) behaves like it would on a real embedding model.
 */
final class MockEmbeddings {

  /** Components each word touches. */
  private static final int PER_WORD = 8;

  private final int dimensions;
  private final long seed;

  MockEmbeddings(int dimensions, long seed) {
    this.dimensions = dimensions;
    this.seed = seed;
  }

  /** The inputs of an embeddings body (already validated by the gateway) as one text each. */
  static List<String> inputs(JsonObject body) {
    Object input = body.getValue("input");
    List<String> texts = new ArrayList<>();
    if (input instanceof String text) {
      texts.add(text);
    } else if (input instanceof JsonArray items && !items.isEmpty() && items.getValue(0) instanceof Number) {
      texts.add(tokenText(items));
    } else if (input instanceof JsonArray items) {
      for (Object item : items) {
        texts.add(item instanceof JsonArray ids ? tokenText(ids) : String.valueOf(item));
      }
    }
    return texts;
  }

  private static String tokenText(JsonArray ids) {
    StringBuilder text = new StringBuilder();
    ids.forEach(id -> text.append('#').append(id).append(' '));
    return text.toString();
  }

  /** The vector of {@code text}, cut to {@code size} components (OpenAI's {@code dimensions}) and normalised. */
  float[] embed(String text, int size) {
    double[] sum = new double[dimensions];
    for (String word : text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}#]+")) {
      if (word.isEmpty()) {
        continue;
      }
      SplittableRandom random = new SplittableRandom(seed ^ word.hashCode() * 0x9E3779B97F4A7C15L);
      for (int i = 0; i < PER_WORD; i++) {
        sum[random.nextInt(dimensions)] += random.nextBoolean() ? 1 : -1;
      }
    }
    float[] vector = new float[size];
    double norm = 0;
    for (int i = 0; i < size; i++) {
      norm += sum[i] * sum[i];
    }
    norm = norm == 0 ? 1 : Math.sqrt(norm);
    for (int i = 0; i < size; i++) {
      vector[i] = (float) (sum[i] / norm);
    }
    return vector;
  }

  /** One {@code data} entry in the encoding the client asked for ("float" or "base64": little-endian float32). */
  static JsonObject entry(int index, float[] vector, boolean base64) {
    Object embedding;
    if (base64) {
      ByteBuffer bytes = ByteBuffer.allocate(vector.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (float value : vector) {
        bytes.putFloat(value);
      }
      embedding = Base64.getEncoder().encodeToString(bytes.array());
    } else {
      JsonArray list = new JsonArray();
      for (float value : vector) {
        list.add(value);
      }
      embedding = list;
    }
    return new JsonObject().put("object", "embedding").put("index", index).put("embedding", embedding);
  }

  int dimensions() {
    return dimensions;
  }
}
