package io.switchboard.worker.openai;

import java.nio.charset.StandardCharsets;

/**
 * The common stream event, read without building a JSON tree: its first choice's text and finish reason, and
 * usage. Almost every event of a stream is only that, and parsing each into maps cost more than relaying it
 * (load-tests/bin/chunk-read-bench re-checks it). An event with anything more (tool calls, reasoning or other
 * delta fields, logprobs, an error) is not plain: {@link #read} returns null and the caller takes the full path.
 *
 * <p>The reader is a scanner over the bytes rather than a Jackson parser: a parser per event (its buffers, its
 * number parsing into a char buffer, its field-name strings) cost more than the events themselves
 * (chunk-read-bench). It checks the whole event is one well-formed JSON object; whatever
 * it does not understand (a field name with escapes, deep nesting, malformed input) makes the event not plain,
 * so the full path, which uses a real JSON parser, decides. It is never the last word on bad input.
 *
 * @param choices      whether the event had a non-empty {@code choices} array
 * @param promptTokens -1 when the event carried no usage
 */
record PlainChunk(boolean choices, String text, String finishReason, int promptTokens, int completionTokens,
                  int cachedTokens) {

  /**
   * @param data UTF-8 JSON, {@code length} bytes from {@code offset} (read from the bytes: no String first)
   * @param chat whether the text is {@code choices[0].delta.content} (chat) or {@code choices[0].text}
   */
  static PlainChunk read(byte[] data, int offset, int length, boolean chat) {
    return read(data, offset, length, chat, null);
  }

  /**
   * Like {@link #read(byte[], int, int, boolean)}; when the text came from a JSON string and {@code textSpan} is
   * not null, it is told where that string's bytes are: [0] just after its opening quote, [1] its closing quote
   * ({@code -1, -1} otherwise).
   */
  static PlainChunk read(byte[] data, int offset, int length, boolean chat, int[] textSpan) {
    if (textSpan != null) {
      textSpan[0] = -1;
      textSpan[1] = -1;
    }
    try {
      Scanner in = new Scanner(data, offset, offset + length);
      Reading reading = new Reading();
      in.open('{');
      if (!in.closes('}')) {
        do {
          Name field = in.name();
          if (field == Name.CHOICES) {
            if (!readChoices(in, chat, reading)) {
              return null;
            }
          } else if (field == Name.USAGE) {
            if (in.isNull()) {
              continue;
            }
            readUsage(in, reading);
          } else if (field == Name.ERROR) {
            return null;
          } else {
            in.skipValue(0);
          }
        } while (in.next('}'));
      }
      if (!in.atEnd()) {
        return null;
      }
      if (textSpan != null && reading.text != null) {
        textSpan[0] = reading.textFrom;
        textSpan[1] = reading.textTo;
      }
      return new PlainChunk(reading.choices, reading.text, reading.finishReason, reading.promptTokens,
          reading.completionTokens, reading.cachedTokens);
    } catch (NotPlain notPlain) {
      return null;
    }
  }

  /**
   * The JSON string whose bytes start at {@code from} (just after its opening quote), decoded, if it is a valid
   * string that closes before {@code end}; else null. {@code closingQuote[0]} is told where it closed.
   */
  static String stringAt(byte[] data, int from, int end, int[] closingQuote) {
    try {
      Scanner in = new Scanner(data, from - 1, end);
      String text = in.string();
      closingQuote[0] = in.stringTo;
      return text;
    } catch (NotPlain notAString) {
      return null;
    }
  }

  private static final class Reading {
    boolean choices;
    String text;
    /** Where the text's string was: just after its opening quote, and its closing quote. */
    int textFrom;
    int textTo;
    String finishReason;
    int promptTokens = -1;
    int completionTokens;
    int cachedTokens;
  }

  private static boolean readChoices(Scanner in, boolean chat, Reading reading) {
    if (in.isNull()) {
      return true;
    }
    in.open('[');
    if (in.closes(']')) {
      return true;
    }
    boolean first = true;
    do {
      if (!first) {
        in.skipValue(1);
        continue;
      }
      first = false;
      in.open('{');
      if (!readChoice(in, chat, reading)) {
        return false;
      }
      reading.choices = true;
    } while (in.next(']'));
    return true;
  }

  /** After the choice's opening brace, up to and including its closing one. */
  private static boolean readChoice(Scanner in, boolean chat, Reading reading) {
    if (in.closes('}')) {
      return true;
    }
    do {
      Name field = in.name();
      if (field == Name.DELTA) {
        if (!chat) {
          return false;
        }
        in.open('{');
        if (!readDelta(in, reading)) {
          return false;
        }
      } else if (field == Name.TEXT) {
        if (chat) {
          return false;
        }
        reading.text = in.stringOrNull();
        reading.textFrom = in.stringFrom;
        reading.textTo = in.stringTo;
      } else if (field == Name.FINISH_REASON) {
        reading.finishReason = in.stringOrNull();
      } else if (field == Name.LOGPROBS) {
        if (!in.isNull()) {
          return false;
        }
      } else {
        in.skipValue(2);
      }
    } while (in.next('}'));
    return true;
  }

  /** After the delta's opening brace, up to and including its closing one. */
  private static boolean readDelta(Scanner in, Reading reading) {
    if (in.closes('}')) {
      return true;
    }
    do {
      Name field = in.name();
      if (field == Name.CONTENT) {
        reading.text = in.stringOrNull();
        reading.textFrom = in.stringFrom;
        reading.textTo = in.stringTo;
      } else if (field == Name.ROLE) {
        in.skipValue(3);
      } else if (!in.isNull()) {
        // tool calls, reasoning, anything else: the full path passes it on
        return false;
      }
    } while (in.next('}'));
    return true;
  }

  private static void readUsage(Scanner in, Reading reading) {
    reading.promptTokens = 0;
    in.open('{');
    if (in.closes('}')) {
      return;
    }
    do {
      Name field = in.name();
      if (field == Name.PROMPT_TOKENS) {
        reading.promptTokens = in.intOrZero();
      } else if (field == Name.COMPLETION_TOKENS) {
        reading.completionTokens = in.intOrZero();
      } else if (field == Name.PROMPT_TOKENS_DETAILS) {
        if (in.isNull()) {
          continue;
        }
        in.open('{');
        if (!in.closes('}')) {
          do {
            if (in.name() == Name.CACHED_TOKENS) {
              reading.cachedTokens = in.intOrZero();
            } else {
              in.skipValue(3);
            }
          } while (in.next('}'));
        }
      } else {
        in.skipValue(2);
      }
    } while (in.next('}'));
  }

  /** The field names the reader looks for; every other name is {@link #OTHER}. */
  private enum Name {
    CHOICES, USAGE, ERROR, DELTA, TEXT, FINISH_REASON, LOGPROBS, CONTENT, ROLE, PROMPT_TOKENS, COMPLETION_TOKENS,
    PROMPT_TOKENS_DETAILS, CACHED_TOKENS, OTHER;

    private final byte[] bytes = name().toLowerCase(java.util.Locale.ROOT).getBytes(StandardCharsets.US_ASCII);
    /** The known names by length: a name is compared with at most the two or three of its length. */
    private static final Name[][] BY_LENGTH = new Name[32][];

    static {
      for (Name name : values()) {
        if (name != OTHER) {
          Name[] same = BY_LENGTH[name.bytes.length];
          same = same == null ? new Name[1] : java.util.Arrays.copyOf(same, same.length + 1);
          same[same.length - 1] = name;
          BY_LENGTH[name.bytes.length] = same;
        }
      }
    }

    static Name of(byte[] data, int from, int to) {
      int length = to - from;
      Name[] candidates = length < BY_LENGTH.length ? BY_LENGTH[length] : null;
      if (candidates == null) {
        return OTHER;
      }
      for (Name name : candidates) {
        byte[] bytes = name.bytes;
        int i = 0;
        while (i < length && data[from + i] == bytes[i]) {
          i++;
        }
        if (i == length) {
          return name;
        }
      }
      return OTHER;
    }
  }

  /** Thrown on anything the scanner does not take as plain; cheap, it carries no stack. */
  private static final class NotPlain extends RuntimeException {
    private static final NotPlain INSTANCE = new NotPlain();

    private NotPlain() {
      super(null, null, false, false);
    }
  }

  /** JSON tokens over a byte range; every method skips the whitespace before what it reads. */
  private static final class Scanner {
    /** Deeper than any event worth the fast path; the full path takes the rest. */
    private static final int MAX_DEPTH = 16;

    private final byte[] data;
    private final int end;
    private int at;
    /** Where the last string read was: just after its opening quote, and its closing quote. */
    int stringFrom;
    int stringTo;

    Scanner(byte[] data, int from, int end) {
      if (from < 0 || end > data.length || from > end) {
        throw NotPlain.INSTANCE;
      }
      this.data = data;
      this.at = from;
      this.end = end;
    }

    private int peek() {
      while (at < end) {
        byte b = data[at];
        if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
          return b;
        }
        at++;
      }
      return -1;
    }

    void open(char bracket) {
      if (peek() != bracket) {
        throw NotPlain.INSTANCE;
      }
      at++;
    }

    /** Right after an opening bracket: whether the container is empty (and then consumes its close). */
    boolean closes(char bracket) {
      if (peek() == bracket) {
        at++;
        return true;
      }
      return false;
    }

    /** After a member: true if a comma follows (another member comes), false after the closing bracket. */
    boolean next(char bracket) {
      int b = peek();
      at++;
      if (b == ',') {
        return true;
      }
      if (b == bracket) {
        return false;
      }
      throw NotPlain.INSTANCE;
    }

    boolean atEnd() {
      return peek() == -1;
    }

    /** A member's name and the colon after it. Names with escapes are not plain. */
    Name name() {
      if (peek() != '"') {
        throw NotPlain.INSTANCE;
      }
      int from = ++at;
      while (at < end && data[at] != '"') {
        if (data[at] == '\\' || (data[at] >= 0 && data[at] < 0x20)) {
          throw NotPlain.INSTANCE;
        }
        at++;
      }
      if (at >= end) {
        throw NotPlain.INSTANCE;
      }
      Name name = Name.of(data, from, at);
      at++;
      if (peek() != ':') {
        throw NotPlain.INSTANCE;
      }
      at++;
      return name;
    }

    /** Consumes a null if one comes next. */
    boolean isNull() {
      if (peek() == 'n') {
        literal("null");
        return true;
      }
      return false;
    }

    String stringOrNull() {
      if (isNull()) {
        return null;
      }
      if (peek() != '"') {
        throw NotPlain.INSTANCE;
      }
      return string();
    }

    /** A number read as an int (a fraction is cut off), or 0 for any other value, which is skipped. */
    int intOrZero() {
      int b = peek();
      if (b != '-' && (b < '0' || b > '9')) {
        skipValue(3);
        return 0;
      }
      int from = at;
      skipNumber();
      String number = new String(data, from, at - from, StandardCharsets.US_ASCII);
      try {
        return number.indexOf('.') < 0 && number.indexOf('e') < 0 && number.indexOf('E') < 0
            ? Integer.parseInt(number) : (int) Double.parseDouble(number);
      } catch (NumberFormatException tooBig) {
        throw NotPlain.INSTANCE;
      }
    }

    void skipValue(int depth) {
      if (depth > MAX_DEPTH) {
        throw NotPlain.INSTANCE;
      }
      int b = peek();
      switch (b) {
        case '"' -> skipString();
        case '{' -> {
          at++;
          if (!closes('}')) {
            do {
              name();
              skipValue(depth + 1);
            } while (next('}'));
          }
        }
        case '[' -> {
          at++;
          if (!closes(']')) {
            do {
              skipValue(depth + 1);
            } while (next(']'));
          }
        }
        case 't' -> literal("true");
        case 'f' -> literal("false");
        case 'n' -> literal("null");
        default -> {
          if (b == '-' || (b >= '0' && b <= '9')) {
            skipNumber();
          } else {
            throw NotPlain.INSTANCE;
          }
        }
      }
    }

    private void literal(String word) {
      int length = word.length();
      if (end - at < length) {
        throw NotPlain.INSTANCE;
      }
      for (int i = 0; i < length; i++) {
        if (data[at + i] != word.charAt(i)) {
          throw NotPlain.INSTANCE;
        }
      }
      at += length;
    }

    /** JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
    private void skipNumber() {
      if (at < end && data[at] == '-') {
        at++;
      }
      if (at < end && data[at] == '0') {
        at++;
      } else if (digits() == 0) {
        throw NotPlain.INSTANCE;
      }
      if (at < end && data[at] == '.') {
        at++;
        if (digits() == 0) {
          throw NotPlain.INSTANCE;
        }
      }
      if (at < end && (data[at] == 'e' || data[at] == 'E')) {
        at++;
        if (at < end && (data[at] == '+' || data[at] == '-')) {
          at++;
        }
        if (digits() == 0) {
          throw NotPlain.INSTANCE;
        }
      }
    }

    private int digits() {
      int from = at;
      while (at < end && data[at] >= '0' && data[at] <= '9') {
        at++;
      }
      return at - from;
    }

    private void skipString() {
      at++;
      while (at < end) {
        byte b = data[at++];
        if (b == '"') {
          return;
        }
        if (b == '\\') {
          escape(null);
        } else if (b >= 0 && b < 0x20) {
          throw NotPlain.INSTANCE;
        }
      }
      throw NotPlain.INSTANCE;
    }

    /** At the opening quote: the decoded string. Without escapes it is one decode of the bytes. */
    private String string() {
      int from = ++at;
      while (at < end) {
        byte b = data[at];
        if (b == '"') {
          stringFrom = from;
          stringTo = at;
          at++;
          return new String(data, from, at - 1 - from, StandardCharsets.UTF_8);
        }
        if (b == '\\') {
          String text = escapedString(from);
          stringFrom = from;
          stringTo = at - 1;
          return text;
        }
        if (b >= 0 && b < 0x20) {
          throw NotPlain.INSTANCE;
        }
        at++;
      }
      throw NotPlain.INSTANCE;
    }

    /** The rest of a string that has escapes: runs of plain bytes decoded as UTF-8, escapes decoded one by one. */
    private String escapedString(int from) {
      StringBuilder text = new StringBuilder(at - from + 16);
      int run = from;
      while (at < end) {
        byte b = data[at];
        if (b == '"' || b == '\\') {
          text.append(new String(data, run, at - run, StandardCharsets.UTF_8));
          at++;
          if (b == '"') {
            return text.toString();
          }
          escape(text);
          run = at;
        } else if (b >= 0 && b < 0x20) {
          throw NotPlain.INSTANCE;
        } else {
          at++;
        }
      }
      throw NotPlain.INSTANCE;
    }

    /** After a backslash: one escape, appended to {@code text} when not null. */
    private void escape(StringBuilder text) {
      if (at >= end) {
        throw NotPlain.INSTANCE;
      }
      byte b = data[at++];
      char c = switch (b) {
        case '"' -> '"';
        case '\\' -> '\\';
        case '/' -> '/';
        case 'b' -> '\b';
        case 'f' -> '\f';
        case 'n' -> '\n';
        case 'r' -> '\r';
        case 't' -> '\t';
        case 'u' -> hex4();
        default -> throw NotPlain.INSTANCE;
      };
      if (text != null) {
        // Surrogate pairs arrive as two \\u escapes in a row and are appended as the two chars they are.
        text.append(c);
      }
    }

    private char hex4() {
      if (end - at < 4) {
        throw NotPlain.INSTANCE;
      }
      int value = 0;
      for (int i = 0; i < 4; i++) {
        int digit = Character.digit(data[at++], 16);
        if (digit < 0) {
          throw NotPlain.INSTANCE;
        }
        value = value * 16 + digit;
      }
      return (char) value;
    }
  }
}
