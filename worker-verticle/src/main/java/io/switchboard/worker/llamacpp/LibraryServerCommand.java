package io.switchboard.worker.llamacpp;

import java.util.ArrayList;
import java.util.List;

/**
 * The command line of one model directory model's llama-server: {@code -m FILE --host 127.0.0.1 --port PORT -np
 * SLOTS -c CONTEXT x SLOTS --metrics --no-webui --alias NAME}, plus {@code -t} and the model's settings
 * ({@code -ngl}, {@code --mmproj}, {@code --chat-template[-file]}), plus, over the rpc pool, {@code --rpc MEMBERS}
 * (the pool's members in its stable endpoint order) and all layers on them ({@code -ngl 999}, as the
 * {@code --model} worker's {@link LlamaServerSupervisor} does) unless the model's settings give {@code gpuLayers}.
 */
final class LibraryServerCommand {

  /** Every layer offloaded to the rpc-servers: what the {@code --model} worker gives llama-server over its pool. */
  static final String ALL_LAYERS = "999";

  private LibraryServerCommand() {
  }

  /**
   * @param contextSize the model's context per slot
   * @param rpcMembers  the rpc pool's members to run over, host:port in the pool's order; empty to run locally
   */
  static List<String> of(LlamaCppOptions options, ModelLibrary.Model model, int port, int slots, int contextSize,
                         List<String> rpcMembers) {
    ModelSettings settings = model.settings;
    List<String> command = new ArrayList<>(List.of(options.getServerBin(), "-m", model.path.toString(),
        "--host", "127.0.0.1", "--port", Integer.toString(port), "-np", Integer.toString(slots),
        "-c", Integer.toString(contextSize * slots), "--metrics", "--no-webui", "--alias", model.name));
    if (options.getThreads() > 0) {
      command.addAll(List.of("-t", Integer.toString(options.getThreads())));
    }
    if (!rpcMembers.isEmpty()) {
      command.addAll(List.of("--rpc", String.join(",", rpcMembers)));
    }
    if (settings.getGpuLayers() >= 0) {
      command.addAll(List.of("-ngl", Integer.toString(settings.getGpuLayers())));
    } else if (!rpcMembers.isEmpty()) {
      command.addAll(List.of("-ngl", ALL_LAYERS));
    }
    if (settings.getMmproj() != null) {
      command.addAll(List.of("--mmproj", settings.getMmproj()));
    }
    if (settings.getChatTemplate() != null) {
      command.addAll(List.of("--chat-template", settings.getChatTemplate()));
    }
    if (settings.getChatTemplateFile() != null) {
      command.addAll(List.of("--chat-template-file", settings.getChatTemplateFile()));
    }
    return command;
  }
}
