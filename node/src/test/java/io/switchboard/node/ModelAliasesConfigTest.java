package io.switchboard.node;

import io.switchboard.gateway.models.ModelAliases;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** gateway.models: aliases from a file and from the environment, and each mistake a clear startup error. */
class ModelAliasesConfigTest {

  @TempDir
  Path dir;

  private NodeOptions loadFile(String yaml) throws IOException {
    return loadFile(yaml, Map.of());
  }

  private NodeOptions loadFile(String yaml, Map<String, String> env) throws IOException {
    Path file = dir.resolve("node.yaml");
    Files.writeString(file, yaml);
    return NodeConfigLoader.load(new NodeConfigLoader.Flags(file, null, null, null, null), env);
  }

  private static NodeOptions loadEnv(Map<String, String> env) {
    return NodeConfigLoader.load(NodeConfigLoader.Flags.NONE, env);
  }

  @Test
  void noAliasesByDefaultAndContextFallbackOn() {
    NodeOptions options = loadEnv(Map.of());
    assertThat(options.getGateway().getModels().aliases().isEmpty()).isTrue();
    assertThat(options.getGateway().getModels().isContextFallback()).isTrue();
  }

  @Test
  void aliasesFromAFileKeepTheirOrder() throws IOException {
    NodeOptions options = loadFile("""
        gateway:
          models:
            aliases:
              chat: [qwen-32b, qwen-7b]
              code: qwen-coder
            contextFallback: false
        """);
    ModelAliases aliases = options.getGateway().getModels().aliases();
    assertThat(aliases.names()).containsExactly("chat", "code");
    assertThat(aliases.targetsOf("chat")).containsExactly("qwen-32b", "qwen-7b");
    assertThat(aliases.targetsOf("code")).containsExactly("qwen-coder");
    assertThat(options.getGateway().getModels().isContextFallback()).isFalse();
  }

  @Test
  void theEnvironmentSetsAliasesAsNameEqualsModelsAndOverridesTheFile() throws IOException {
    NodeOptions options = loadFile("""
        gateway:
          models:
            aliases:
              chat: [from-file]
        """, Map.of("SWITCHBOARD_GATEWAY_MODELS_ALIASES", "chat=qwen-32b|qwen-7b, fast=qwen-7b",
        "SWITCHBOARD_GATEWAY_MODELS_CONTEXT_FALLBACK", "false"));
    ModelAliases aliases = options.getGateway().getModels().aliases();
    assertThat(aliases.names()).containsExactly("chat", "fast");
    assertThat(aliases.targetsOf("chat")).containsExactly("qwen-32b", "qwen-7b");
    assertThat(aliases.targetsOf("fast")).containsExactly("qwen-7b");
    assertThat(options.getGateway().getModels().isContextFallback()).isFalse();
    assertThat(NodeConfigLoader.environmentNames(new NodeOptions().toJson()))
        .containsEntry("SWITCHBOARD_GATEWAY_MODELS_ALIASES", "gateway.models.aliases");
  }

  @Test
  void malformedEnvironmentTextSaysTheForm() {
    assertThatThrownBy(() -> loadEnv(Map.of("SWITCHBOARD_GATEWAY_MODELS_ALIASES", "chat:qwen-7b")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("SWITCHBOARD_GATEWAY_MODELS_ALIASES (gateway.models.aliases) must look like "
            + "NAME=MODEL|MODEL");
    assertThatThrownBy(() -> loadEnv(Map.of("SWITCHBOARD_GATEWAY_MODELS_ALIASES", "chat=a,chat=b")))
        .hasMessageContaining("names 'chat' twice");
  }

  @Test
  void eachMistakeIsAClearStartupError() throws IOException {
    assertThatThrownBy(() -> loadEnv(Map.of("SWITCHBOARD_GATEWAY_MODELS_ALIASES", "chat=")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("gateway.models.aliases.chat names no model");
    assertThatThrownBy(() -> loadEnv(Map.of("SWITCHBOARD_GATEWAY_MODELS_ALIASES", "chat=a|chat")))
        .hasMessageContaining("gateway.models.aliases.chat names itself, a cycle");
    assertThatThrownBy(() -> loadEnv(Map.of("SWITCHBOARD_GATEWAY_MODELS_ALIASES", "chat=fast,fast=qwen-7b")))
        .hasMessageContaining("gateway.models.aliases.chat names 'fast', which is an alias too")
        .hasMessageContaining("[qwen-7b]");
    assertThatThrownBy(() -> loadEnv(Map.of("SWITCHBOARD_GATEWAY_MODELS_ALIASES", "a=b,b=a")))
        .hasMessageContaining("part of a cycle of aliases (a -> b -> a)");
    assertThatThrownBy(() -> loadEnv(Map.of("SWITCHBOARD_GATEWAY_MODELS_ALIASES", "chat=a|a")))
        .hasMessageContaining("names 'a' twice");
    assertThatThrownBy(() -> loadFile("""
        gateway:
          models:
            aliases:
              "my chat": [qwen-7b]
        """)).hasMessageContaining("alias named 'my chat', which is not a usable model name");
    assertThatThrownBy(() -> loadFile("""
        gateway:
          models:
            aliases:
              chat: ["qwen 7b"]
        """)).hasMessageContaining("gateway.models.aliases.chat[0] is 'qwen 7b', not a model name");
    assertThatThrownBy(() -> loadFile("""
        gateway:
          models:
            aliases: [chat, qwen-7b]
        """)).hasMessageContaining("'gateway.models.aliases' in").hasMessageContaining("must be a mapping");
    assertThatThrownBy(() -> loadFile("""
        gateway:
          models:
            aliases:
              chat: {first: qwen-7b}
        """)).hasMessageContaining("gateway.models.aliases.chat must be a list of model names");
    assertThatThrownBy(() -> loadFile("""
        gateway:
          models:
            alias:
              chat: [qwen-7b]
        """)).hasMessageContaining("unknown key 'gateway.models.alias'");
  }

  @Test
  void anAliasMayNotShadowAModelThisNodesWorkerServes() {
    assertThatThrownBy(() -> loadEnv(Map.of("SWITCHBOARD_GATEWAY_MODELS_ALIASES", "mock-llm=other")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("gateway.models.aliases.mock-llm shadows the model workers[0] serves");
    // A worker-only node has no gateway to shadow it on.
    assertThat(loadEnv(Map.of("SWITCHBOARD_GATEWAY_MODELS_ALIASES", "mock-llm=other", "SWITCHBOARD_ROLES", "worker"))
        .getGateway().getModels().aliases().targetsOf("mock-llm")).isEqualTo(List.of("other"));
  }
}
