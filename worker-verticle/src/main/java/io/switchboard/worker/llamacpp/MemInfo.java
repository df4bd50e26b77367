package io.switchboard.worker.llamacpp;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The machine's available memory, as Linux says it in {@code /proc/meminfo}. Blocking: call off the event loop. */
final class MemInfo {

  private static final Path MEMINFO = Path.of("/proc/meminfo");

  private MemInfo() {
  }

  /** {@code MemAvailable} in bytes; -1 where there is no /proc/meminfo or it has no such line. */
  static long availableBytes() {
    try {
      return parseAvailable(Files.readAllLines(MEMINFO));
    } catch (IOException | RuntimeException unreadable) {
      return -1;
    }
  }

  /** The {@code MemAvailable:  N kB} line's N, in bytes; -1 when none is there. */
  static long parseAvailable(List<String> lines) {
    for (String line : lines) {
      if (line.startsWith("MemAvailable:")) {
        String[] parts = line.substring("MemAvailable:".length()).trim().split("\\s+");
        try {
          long value = Long.parseLong(parts[0]);
          return parts.length > 1 && parts[1].equalsIgnoreCase("kB") ? value * 1024 : value;
        } catch (NumberFormatException bad) {
          return -1;
        }
      }
    }
    return -1;
  }
}
