package io.switchboard.worker.rpc;

import io.switchboard.runtime.config.GenerateOptions;
import io.switchboard.runtime.config.Range;

import java.util.ArrayList;
import java.util.List;

/** Settings of the rpc-agent role: which ggml-rpc-server to run, where, and how to restart it. */
@GenerateOptions
public abstract class RpcAgentOptionsSpec {

  public static final int DEFAULT_PORT = 50052;

  String serverBin;
  String host;
  @Range(min = 1, max = 65535)
  int port = DEFAULT_PORT;
  @Range(min = 0, meaning = " (0 = the rpc-server's default)")
  int threads;
  List<String> devices = new ArrayList<>();
  long restartBackoffMs = 1000;
  long maxRestartBackoffMs = 30_000;
  /** How long a started rpc-server has to answer the handshake before it counts as failed. */
  @Range(min = 1000)
  long startTimeoutMs = 20_000;

  /** Checks what can be checked without the role running; {@link #validateForRole} adds the rest. */
  public void validate(String path) {
    if (restartBackoffMs < 100 || maxRestartBackoffMs < restartBackoffMs) {
      throw new IllegalArgumentException(path + ".restartBackoffMs must be >= 100 and " + path
          + ".maxRestartBackoffMs >= it, got " + restartBackoffMs + " and " + maxRestartBackoffMs);
    }
  }

  /** The role needs a binary: say where to get one. */
  public void validateForRole(String path) {
    if (serverBin == null || serverBin.isBlank()) {
      throw new IllegalArgumentException(path + ".serverBin must name the ggml-rpc-server binary when node.roles "
          + "includes rpc-agent (--rpc-server-bin PATH; tools/build-llama-cpp builds one)");
    }
  }
}
