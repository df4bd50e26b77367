package io.switchboard.worker.openai;

import java.util.Arrays;

/**
 * Reads one stream's plain events ({@link PlainChunk}), most of them by comparison with the last one read in
 * full. A backend's events differ, one to the next, almost only in their text: same id, same model, same
 * fields in the same order. So once an event with text was read in full, the next is checked against it: the
 * bytes before its text's string and the bytes after it must be the same, and the string in between a valid JSON
 * string. Then it is the same event with another text, and only that text is read (two array comparisons and a
 * string instead of a scan of every byte; load-tests/bin/chunk-read-bench measures both).
 * Anything else (the first event, a role or finish event, usage, another backend's layout) is read in full, and
 * an event read in full with text becomes the one the next are compared with. One per stream; not thread-safe.
 */
final class PlainEventReader {

  private final boolean chat;
  private final int[] span = new int[2];
  private final int[] closingQuote = new int[1];
  /** The last event read in full that had text, its text's place in it, and what it read as. */
  private byte[] template;
  private int textFrom;
  private int textTo;
  private PlainChunk templateChunk;
  /** Events read in full (for tests: the rest were read by comparison). */
  private int fullReads;

  /** @param chat whether the text is {@code choices[0].delta.content} (chat) or {@code choices[0].text} */
  PlainEventReader(boolean chat) {
    this.chat = chat;
  }

  /** The event's plain reading, or null when it is not plain (see {@link PlainChunk#read}). */
  PlainChunk read(byte[] data, int offset, int length) {
    if (template != null) {
      PlainChunk same = likeTemplate(data, offset, length);
      if (same != null) {
        return same;
      }
    }
    fullReads++;
    PlainChunk full = PlainChunk.read(data, offset, length, chat, span);
    if (full != null && span[0] >= 0) {
      template = Arrays.copyOfRange(data, offset, offset + length);
      textFrom = span[0] - offset;
      textTo = span[1] - offset;
      templateChunk = full;
    }
    return full;
  }

  int fullReads() {
    return fullReads;
  }

  private PlainChunk likeTemplate(byte[] data, int offset, int length) {
    int suffix = template.length - textTo;
    int end = offset + length;
    if (length < textFrom + suffix
        || !Arrays.equals(data, offset, offset + textFrom, template, 0, textFrom)) {
      return null;
    }
    String text = PlainChunk.stringAt(data, offset + textFrom, end, closingQuote);
    if (text == null || end - closingQuote[0] != suffix
        || !Arrays.equals(data, closingQuote[0], end, template, textTo, template.length)) {
      return null;
    }
    return new PlainChunk(templateChunk.choices(), text, templateChunk.finishReason(), templateChunk.promptTokens(),
        templateChunk.completionTokens(), templateChunk.cachedTokens());
  }
}
