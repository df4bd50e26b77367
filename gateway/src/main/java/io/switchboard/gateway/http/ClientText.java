package io.switchboard.gateway.http;

/**
 * A string a client chose (a model name, a path, a header value, a user or session id), as logs and error messages
 * show it: whole when it is at most {@value #MAX_SHOWN_CHARS} characters, else its first
 * {@value #MAX_SHOWN_CHARS} and its length. Control characters become {@code ?}, so a name cannot forge a line of
 * a text-format log. Enough to recognise a name; never a client's way to fill the log.
 */
public final class ClientText {

  /** Characters of a client's string that a log line or an error message repeats. */
  public static final int MAX_SHOWN_CHARS = 128;

  private ClientText() {
  }

  public static String shown(String text) {
    if (text == null) {
      return null;
    }
    int length = text.length();
    int end = Math.min(length, MAX_SHOWN_CHARS);
    if (end < length && Character.isHighSurrogate(text.charAt(end - 1))) {
      end--;
    }
    boolean clean = end == length;
    for (int i = 0; i < end && clean; i++) {
      clean = !Character.isISOControl(text.charAt(i));
    }
    if (clean) {
      return text;
    }
    StringBuilder shown = new StringBuilder(end + 32);
    for (int i = 0; i < end; i++) {
      char c = text.charAt(i);
      shown.append(Character.isISOControl(c) ? '?' : c);
    }
    if (end < length) {
      shown.append("... (").append(length).append(" characters)");
    }
    return shown.toString();
  }
}
