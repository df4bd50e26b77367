package io.switchboard.node;

import io.vertx.core.json.JsonObject;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar switchboard.jar [options]}: starts a node. With no options: one node running a gateway on
 * 127.0.0.1:8080 and a mocker worker serving {@code mock-llm}.
 */
@Command(name = "switchboard", mixinStandardHelpOptions = true, version = "switchboard 0.1.0",
    subcommands = DoctorCommand.class,
    description = "Runs a Switchboard node: an OpenAI-compatible gateway and/or inference workers that find "
        + "each other through an embedded cluster.",
    footer = {"", "Every setting can also come from the environment: SWITCHBOARD_<PATH>, e.g. "
        + "SWITCHBOARD_GATEWAY_HTTP_PORT=8081. --print-config lists them all."})
public final class SwitchboardMain implements Callable<Integer> {

  private static final int RUNNING = -1;

  @Option(names = "--config", paramLabel = "FILE", description = "YAML or JSON config file (see conf/)")
  Path config;

  @Option(names = "--roles", split = ",", paramLabel = "ROLE",
      description = "What this node runs: gateway, worker, rpc-agent, or a mix (default: gateway,worker)")
  List<String> roles;

  @Option(names = "--http-port", paramLabel = "N", description = "Gateway HTTP port (default 8080; 0 = any)")
  Integer httpPort;

  @Option(names = "--cluster-host", paramLabel = "ADDRESS",
      description = "This node's address for cluster traffic (default 127.0.0.1)")
  String clusterHost;

  @Option(names = "--cluster-members", split = ",", paramLabel = "HOST[:PORT]",
      description = "Addresses of cluster members to join through (default 127.0.0.1)")
  List<String> clusterMembers;

  @Option(names = "--rpc-server-bin", paramLabel = "PATH",
      description = "The ggml-rpc-server binary an rpc-agent node runs (tools/build-llama-cpp builds one)")
  String rpcServerBin;

  @Option(names = "--rpc-port", paramLabel = "N", description = "Port of the rpc-agent's ggml-rpc-server "
      + "(default 50052)")
  Integer rpcPort;

  @Option(names = "--llama-server-bin", paramLabel = "PATH",
      description = "Run a llamacpp worker: this llama-server binary, over the cluster's rpc-servers")
  String llamaServerBin;

  @Option(names = "--model", paramLabel = "FILE.gguf",
      description = "The GGUF model that llamacpp worker serves (its name is the file name without .gguf)")
  Path model;

  @Option(names = "--models-dir", paramLabel = "DIR",
      description = "Serve every GGUF file in DIR (each by its file name without .gguf) with that llamacpp worker: "
          + "loaded on the first request, unloaded when idle or for room (instead of --model)")
  Path modelsDir;

  @Option(names = "--backend", paramLabel = "URL",
      description = "Serve an OpenAI-compatible server (vLLM, SGLang, TGI, trtllm-serve, Ollama, llama-server): "
          + "one openai worker per --backend, its models read from URL/v1/models. Repeatable")
  List<String> backends;

  @Option(names = "--print-config",
      description = "Print the effective configuration and every setting's environment variable, then exit")
  boolean printConfig;

  private final CountDownLatch stopped = new CountDownLatch(1);

  public static void main(String[] args) {
    SwitchboardMain main = new SwitchboardMain();
    int code = new CommandLine(main).execute(args);
    if (code != RUNNING) {
      System.exit(code);
    }
    main.awaitStop();
  }

  @Override
  public Integer call() {
    NodeOptions options;
    try {
      options = NodeConfigLoader.load(
          new NodeConfigLoader.Flags(config, roles, httpPort, clusterHost, clusterMembers, rpcServerBin, rpcPort,
              llamaServerBin, model, backends, modelsDir),
          System.getenv());
    } catch (ConfigException invalid) {
      System.err.println("switchboard: configuration error: " + invalid.getMessage());
      return 2;
    }
    if (printConfig) {
      JsonObject shown = options.toJson();
      JsonObject gateway = shown.getJsonObject("gateway");
      if (gateway != null && gateway.getString("adminKey") != null) {
        gateway.put("adminKey", "(set, not shown)");
      }
      if (gateway != null && !gateway.getJsonArray("apiKeys").isEmpty()) {
        gateway.put("apiKeys", "(" + gateway.getJsonArray("apiKeys").size() + " set, not shown)");
      }
      System.out.println(shown.encodePrettily());
      System.out.println();
      NodeConfigLoader.environmentNames(options.toJson())
          .forEach((variable, path) -> System.out.println(variable + " -> " + path));
      return 0;
    }
    // Before the first logger is created: logback.xml picks its appender from this property.
    System.setProperty("switchboard.log.format", options.getLogFormat());
    NodeLauncher launcher = new NodeLauncher(options);
    try {
      launcher.start().toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    } catch (Exception failure) {
      Throwable cause = failure.getCause() != null ? failure.getCause() : failure;
      System.err.println("switchboard: the node could not start: " + cause.getMessage());
      return 1;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      int status = 0;
      try {
        launcher.stop().toCompletionStage().toCompletableFuture()
            .get(options.getShutdownTimeoutMs(), TimeUnit.MILLISECONDS);
      } catch (Exception timeout) {
        System.err.println("switchboard: shutdown did not finish within node.shutdownTimeoutMs ("
            + options.getShutdownTimeoutMs() + " ms)");
        status = 1;
      } finally {
        stopped.countDown();
      }
      // A drained, clean stop exits 0 (not the JVM's 143 for SIGTERM) so supervisors can tell it from a failure.
      LogFlusher.flush();
      Runtime.getRuntime().halt(status);
    }, "switchboard-shutdown"));
    return RUNNING;
  }

  private void awaitStop() {
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
