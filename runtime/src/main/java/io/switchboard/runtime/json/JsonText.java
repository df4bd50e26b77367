package io.switchboard.runtime.json;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;

/**
 * JSON written straight to text, as Vert.x's codec (Jackson) writes the same values: a JSON tree read from a
 * request (objects, arrays, strings, numbers, booleans, null) comes out as the bytes of its {@code encode()},
 * without Jackson's generator and serializer lookups, which were most of the cost of a proxied request's
 * upstream body. Strings are escaped as Jackson escapes them (quote, backslash, the short escapes,
 * {@code \\u00XX} for other control characters); a surrogate without its pair is written as an escape, so no
 * text is changed on the way.
 */
public final class JsonText {

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private JsonText() {
  }

  /**
   * The object's JSON: the bytes of {@code object.encode()} ({@code toBuffer()} writes a character beyond U+FFFF
   * as two escapes instead; both read the same). A value this writer does not know (a date, a byte array, a bean,
   * a number that is not finite) leaves the whole object to Vert.x's codec.
   */
  public static Buffer buffer(JsonObject object) {
    StringBuilder out = new StringBuilder(256);
    return object(out, object.getMap(), false) ? Buffer.buffer(out.toString()) : object.toBuffer();
  }

  /** The object's JSON as a String: {@code object.encode()}'s text, written as {@link #buffer} writes it. */
  public static String text(JsonObject object) {
    StringBuilder out = new StringBuilder(256);
    return object(out, object.getMap(), false) ? out.toString() : object.encode();
  }

  /**
   * The object's bytes exactly as {@code object.toBuffer()} writes them, astral characters as two escapes: for what
   * goes to a client, whose bytes stay those Vert.x's codec wrote. The same fallback as {@link #buffer}.
   */
  public static Buffer toBuffer(JsonObject object) {
    StringBuilder out = new StringBuilder(256);
    return object(out, object.getMap(), true) ? Buffer.buffer(out.toString()) : object.toBuffer();
  }

  /**
   * Appends the object as {@link #toBuffer} writes it, for a frame around it (an SSE event).
   *
   * @return false when a value is one this writer does not know: {@code out} then holds part of the object and the
   *     caller writes the frame with Vert.x's codec
   */
  public static boolean appendAsToBuffer(StringBuilder out, JsonObject object) {
    return object(out, object.getMap(), true);
  }

  /** Appends one value as {@link #toBuffer} writes it; false as {@link #appendAsToBuffer}. */
  public static boolean appendValueAsToBuffer(StringBuilder out, Object value) {
    return value(out, value, true);
  }

  /** Appends {@code text} as a JSON string literal. */
  public static StringBuilder string(StringBuilder out, String text) {
    return string(out, text, false);
  }

  /**
   * Appends {@code text} as a JSON string literal as {@code toBuffer()} writes it: Jackson's byte generator escapes
   * every surrogate, paired or not ({@code \uD83D\uDE00}), where {@code encode()} writes a pair as it is.
   */
  public static StringBuilder escapedString(StringBuilder out, String text) {
    return string(out, text, true);
  }

  private static StringBuilder string(StringBuilder out, String text, boolean escapeAstral) {
    out.append('"');
    int plainFrom = 0;
    int length = text.length();
    for (int i = 0; i < length; i++) {
      char c = text.charAt(i);
      if (c >= 0x20 && c != '"' && c != '\\' && !Character.isSurrogate(c)) {
        continue;
      }
      if (!escapeAstral && Character.isHighSurrogate(c) && i + 1 < length
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
        continue;
      }
      out.append(text, plainFrom, i);
      plainFrom = i + 1;
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\b' -> out.append("\\b");
        case '\t' -> out.append("\\t");
        case '\n' -> out.append("\\n");
        case '\f' -> out.append("\\f");
        case '\r' -> out.append("\\r");
        default -> out.append("\\u").append(HEX[c >> 12]).append(HEX[(c >> 8) & 0xF]).append(HEX[(c >> 4) & 0xF])
            .append(HEX[c & 0xF]);
      }
    }
    return out.append(text, plainFrom, length).append('"');
  }

  private static boolean object(StringBuilder out, Map<?, ?> map, boolean escapeAstral) {
    out.append('{');
    boolean first = true;
    for (Map.Entry<?, ?> entry : map.entrySet()) {
      if (!(entry.getKey() instanceof String key)) {
        return false;
      }
      if (!first) {
        out.append(',');
      }
      first = false;
      string(out, key, escapeAstral).append(':');
      if (!value(out, entry.getValue(), escapeAstral)) {
        return false;
      }
    }
    out.append('}');
    return true;
  }

  private static boolean array(StringBuilder out, List<?> list, boolean escapeAstral) {
    out.append('[');
    for (int i = 0; i < list.size(); i++) {
      if (i > 0) {
        out.append(',');
      }
      if (!value(out, list.get(i), escapeAstral)) {
        return false;
      }
    }
    out.append(']');
    return true;
  }

  private static boolean value(StringBuilder out, Object value, boolean escapeAstral) {
    if (value == null) {
      out.append("null");
    } else if (value instanceof String text) {
      string(out, text, escapeAstral);
    } else if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
      out.append(((Number) value).longValue());
    } else if (value instanceof Boolean bool) {
      out.append(bool.booleanValue());
    } else if (value instanceof JsonObject object) {
      return object(out, object.getMap(), escapeAstral);
    } else if (value instanceof Map<?, ?> map) {
      return object(out, map, escapeAstral);
    } else if (value instanceof JsonArray array) {
      return array(out, array.getList(), escapeAstral);
    } else if (value instanceof List<?> list) {
      return array(out, list, escapeAstral);
    } else if (value instanceof Double number) {
      if (!Double.isFinite(number)) {
        return false;
      }
      out.append(number.doubleValue());
    } else if (value instanceof Float number) {
      if (!Float.isFinite(number)) {
        return false;
      }
      out.append(number.floatValue());
    } else if (value instanceof BigInteger || value instanceof BigDecimal) {
      out.append(value);
    } else {
      return false;
    }
    return true;
  }
}
