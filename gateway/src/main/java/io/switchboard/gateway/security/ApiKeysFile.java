package io.switchboard.gateway.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * The API keys file on disk ({@code gateway.apiKeysFile}): what tells one version of it from another, reading a
 * version whole, and the rules its content must follow. Its methods block: call them off the event loop.
 */
public final class ApiKeysFile {

  /**
   * One version of the file: modification time (to the nanosecond where the file system keeps it), size and file
   * identity (the inode, which an atomic replace changes). A stamp made for a file that could not be read names
   * the reason instead, so the same failure is recognised as the same.
   */
  record Stamp(String modified, long size, Object fileKey) {
    static Stamp unreadable(String reason) {
      return new Stamp("unreadable", -1, reason);
    }
  }

  /** A version read whole: its stamp and content, or (content null) a file that changed while it was read. */
  record Snapshot(Stamp stamp, String content) {
  }

  private final Path path;

  ApiKeysFile(String path) {
    this.path = Path.of(path);
  }

  Stamp stamp() throws IOException {
    BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
    return new Stamp(attributes.lastModifiedTime().toInstant().toString(), attributes.size(), attributes.fileKey());
  }

  /** Reads the file, checking its stamp before and after: a write in progress shows as a changed stamp. */
  Snapshot read() throws IOException {
    Stamp before = stamp();
    byte[] bytes = Files.readAllBytes(path);
    Stamp after = stamp();
    return before.equals(after) && bytes.length == after.size()
        ? new Snapshot(after, new String(bytes, StandardCharsets.UTF_8)) : new Snapshot(after, null);
  }

  /**
   * The keys of {@code gateway.apiKeys} and of the file's {@code content}. Fails naming the line at fault, and
   * when the file holds no key at all: an empty file is far more often a write caught halfway (or a truncated
   * file) than a wish to open the API to everyone.
   */
  public static ApiKeys parse(ApiKeySettings options, String file, String content) {
    List<ApiKeys.Entry> entries = new ArrayList<>();
    for (int i = 0; i < options.getApiKeys().size(); i++) {
      entries.add(new ApiKeys.Entry(options.getApiKeys().get(i), "gateway.apiKeys[" + i + "]"));
    }
    String[] lines = content.split("\\R");
    int keyLines = 0;
    for (int i = 0; i < lines.length; i++) {
      entries.add(new ApiKeys.Entry(lines[i], file + " line " + (i + 1)));
      String text = lines[i].strip();
      if (!text.isEmpty() && !text.startsWith("#")) {
        keyLines++;
      }
    }
    if (keyLines == 0) {
      throw new IllegalArgumentException(file + " holds no API key (" + (content.isBlank() ? "it is empty"
          : "only blank and comment lines") + "). A keys file must list at least one key: list a key no client has "
          + "(e.g. sha256: and 64 zeros) to refuse every client");
    }
    return ApiKeys.parse(entries, options.getRateLimits());
  }

  /** Reads and parses the file now (for the settings' validation, before anything starts). */
  public static ApiKeys readNow(ApiKeySettings options, String file) throws IOException {
    return parse(options, file, new String(Files.readAllBytes(Path.of(file)), StandardCharsets.UTF_8));
  }

  Path path() {
    return path;
  }
}
