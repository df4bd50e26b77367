package io.switchboard.worker.llamacpp;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Picks the lines that explain a failure out of llama-server's output (its error lines, else its last lines). */
final class LlamaServerOutput {

  private static final int MAX_LINES = 3;

  private LlamaServerOutput() {
  }

  /** @param tail the output's last lines joined by {@code " | "} ({@code SupervisedProcess#tail}) */
  static String cause(String tail) {
    String[] lines = tail.split(" \\| ");
    Set<String> errors = new LinkedHashSet<>();
    for (String line : lines) {
      // llama-server's log lines read "0.00.003.342 E gguf_init_from_reader: failed to read key-value pairs".
      int marker = line.indexOf(" E ");
      if (marker >= 0 && marker < 20) {
        errors.add(line.substring(marker + 3).trim());
      }
    }
    List<String> picked = new ArrayList<>(errors);
    if (picked.isEmpty()) {
      for (int i = Math.max(0, lines.length - MAX_LINES); i < lines.length; i++) {
        if (!lines[i].isBlank()) {
          picked.add(lines[i].trim());
        }
      }
    }
    return picked.isEmpty() ? "(it printed nothing)"
        : String.join("; ", picked.subList(0, Math.min(MAX_LINES, picked.size())));
  }
}
