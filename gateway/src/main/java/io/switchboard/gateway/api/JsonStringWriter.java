package io.switchboard.gateway.api;

/**
 * Appends a string as a JSON string literal, escaped as Jackson (Vert.x's JSON codec) escapes it: quote and
 * backslash, the short escapes for backspace, tab, newline, form feed and carriage return, {@code \\u00XX} for
 * the other control characters, everything else as it is. So a body written with it reads, and encodes, the
 * same as one built as a JSON tree.
 */
final class JsonStringWriter {

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private JsonStringWriter() {
  }

  static StringBuilder append(StringBuilder out, String text) {
    out.append('"');
    int plainFrom = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c >= 0x20 && c != '"' && c != '\\') {
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
        default -> out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
      }
    }
    return out.append(text, plainFrom, text.length()).append('"');
  }
}
