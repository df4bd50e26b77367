package io.switchboard.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where {@code tools/build-llama-cpp} put llama-server and ggml-rpc-server (a cache outside the repository, so every
 * worktree shares one build). The repository is found from the system property {@code switchboard.repo} (the node
 * module's integration tests set it) or the parent of the module directory the tests run in.
 */
public final class LlamaCppBinaries {

  private LlamaCppBinaries() {
  }

  /** The bin directory; fails the test with how to build it when llama.cpp is not built. */
  public static Path directory() throws IOException, InterruptedException {
    return built().orElseThrow(() -> new AssertionError(
        "llama.cpp is not built: run tools/build-llama-cpp (bash .ci/run does)"));
  }

  /** The bin directory, or empty when llama.cpp is not built (for a test that skips then). */
  public static Optional<Path> built() throws IOException, InterruptedException {
    Path repo = Path.of(System.getProperty("switchboard.repo", "..")).toAbsolutePath().normalize();
    Process print = new ProcessBuilder("bash", repo.resolve("tools/build-llama-cpp").toString(), "--print")
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(print.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    return print.waitFor() == 0 ? Optional.of(Path.of(out)) : Optional.empty();
  }
}
