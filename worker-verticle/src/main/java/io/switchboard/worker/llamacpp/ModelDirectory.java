package io.switchboard.worker.llamacpp;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a model directory: every {@code *.gguf} file directly in it is a model named by its file name without
 * {@code .gguf}. Files whose name starts with {@code mmproj} (multimodal projectors, named in per-model settings)
 * are skipped; of a split model ({@code NAME-00001-of-00003.gguf}) the first part stands for the model
 * ({@code NAME}) and its size is the sum of its parts. The list is capped: a directory with thousands of files makes
 * a bounded record. Blocking: call it from {@code executeBlocking}.
 */
final class ModelDirectory {

  private static final Pattern SHARD = Pattern.compile("(?i)^(.+)-(\\d{5})-of-(\\d{5})\\.gguf$");

  /** The first {@code max} models by name, and how many the directory holds in all. */
  record Scan(List<ModelLibrary.ModelFile> files, int total) {
  }

  private ModelDirectory() {
  }

  static Scan scan(Path dir, int max) throws IOException {
    TreeMap<String, ModelLibrary.ModelFile> kept = new TreeMap<>();
    TreeMap<String, Long> shardSizes = new TreeMap<>();
    int total = 0;
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path path : entries) {
        String file = path.getFileName().toString();
        if (!file.toLowerCase(Locale.ROOT).endsWith(".gguf") || file.toLowerCase(Locale.ROOT).startsWith("mmproj")) {
          continue;
        }
        BasicFileAttributes attributes;
        try {
          attributes = Files.readAttributes(path, BasicFileAttributes.class);
        } catch (IOException vanished) {
          continue;
        }
        if (!attributes.isRegularFile()) {
          continue;
        }
        String name = file.substring(0, file.length() - ".gguf".length());
        Matcher shard = SHARD.matcher(file);
        if (shard.matches()) {
          name = shard.group(1);
          shardSizes.merge(name, attributes.size(), Long::sum);
          if (!"00001".equals(shard.group(2))) {
            continue;
          }
        }
        total++;
        kept.put(name, new ModelLibrary.ModelFile(name, path.toAbsolutePath(), attributes.size(),
            attributes.lastModifiedTime().toMillis()));
        if (kept.size() > max) {
          kept.pollLastEntry();
        }
      }
    }
    List<ModelLibrary.ModelFile> files = new ArrayList<>(kept.size());
    for (ModelLibrary.ModelFile file : kept.values()) {
      Long shards = shardSizes.get(file.name());
      files.add(shards == null ? file : new ModelLibrary.ModelFile(file.name(), file.path(), shards,
          file.modifiedMs()));
    }
    return new Scan(files, total);
  }
}
