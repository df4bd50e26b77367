package io.switchboard.protocol;

import io.switchboard.runtime.json.JsonText;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One byte form for a JSON value, the same on every node whatever order its keys arrived in and whatever number
 * type a decoder chose: object keys sorted, no whitespace, a number as its exact decimal without trailing zeros
 * (2, 2.0 and 2L all write {@code 2}). What a signature covers, so one made before a record crossed the cluster
 * verifies after it.
 */
public final class CanonicalJson {

  private CanonicalJson() {
  }

  public static byte[] bytes(Object value) {
    StringBuilder out = new StringBuilder(512);
    write(out, value);
    return out.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static void write(StringBuilder out, Object value) {
    if (value == null) {
      out.append("null");
    } else if (value instanceof JsonObject object) {
      writeObject(out, object.getMap());
    } else if (value instanceof Map<?, ?> map) {
      writeObject(out, map);
    } else if (value instanceof JsonArray array) {
      writeArray(out, array.getList());
    } else if (value instanceof List<?> list) {
      writeArray(out, list);
    } else if (value instanceof CharSequence text) {
      JsonText.string(out, text.toString());
    } else if (value instanceof Boolean bool) {
      out.append(bool.booleanValue());
    } else if (value instanceof Number number) {
      out.append(number(number));
    } else {
      throw new IllegalArgumentException("not a JSON value: " + value.getClass().getName());
    }
  }

  private static void writeObject(StringBuilder out, Map<?, ?> map) {
    Map<String, Object> sorted = new TreeMap<>();
    map.forEach((key, value) -> sorted.put(String.valueOf(key), value));
    out.append('{');
    boolean first = true;
    for (Map.Entry<String, Object> entry : sorted.entrySet()) {
      if (!first) {
        out.append(',');
      }
      first = false;
      JsonText.string(out, entry.getKey());
      out.append(':');
      write(out, entry.getValue());
    }
    out.append('}');
  }

  private static void writeArray(StringBuilder out, List<?> list) {
    out.append('[');
    for (int i = 0; i < list.size(); i++) {
      if (i > 0) {
        out.append(',');
      }
      write(out, list.get(i));
    }
    out.append(']');
  }

  private static String number(Number number) {
    if (number instanceof Integer || number instanceof Long || number instanceof Short || number instanceof Byte
        || number instanceof BigInteger) {
      return number.toString();
    }
    double asDouble = number.doubleValue();
    if (Double.isNaN(asDouble) || Double.isInfinite(asDouble)) {
      throw new IllegalArgumentException("not a JSON number: " + number);
    }
    BigDecimal exact = (number instanceof BigDecimal decimal ? decimal : new BigDecimal(number.toString()))
        .stripTrailingZeros();
    return exact.scale() <= 0 ? exact.toBigIntegerExact().toString() : exact.toPlainString();
  }
}
