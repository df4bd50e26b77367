package io.switchboard.worker.llamacpp;

import io.switchboard.testsupport.FreePorts;
import io.switchboard.testsupport.LlamaCppBinaries;
import io.switchboard.testsupport.LlamaCppServers;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The tiny model and a real llama-server serving it, for tests. */
public final class LlamaServerTestSupport {

  private LlamaServerTestSupport() {
  }

  public static Path tinyModel() throws Exception {
    Path vocab = LlamaCppBinaries.directory().getParent().resolve("models").resolve("ggml-vocab-llama-spm.gguf");
    Path model = Path.of("target", "models", "tiny-llama.gguf").toAbsolutePath();
    if (!Files.exists(model)) {
      TinyLlamaModel.write(vocab, model, 42);
    }
    return model;
  }

  /** Starts a real llama-server on the tiny model (added to {@code processes}); returns its port once healthy. */
  public static int start(List<Process> processes, String... extra) throws Exception {
    return startOn(processes, FreePorts.any(), extra);
  }

  /** Like {@link #start}, on a given port (to bring a killed server back where its clients expect it). */
  public static int startOn(List<Process> processes, int port, String... extra) throws Exception {
    processes.add(LlamaCppServers.llamaServer(tinyModel(), port, extra));
    return port;
  }
}
