package io.switchboard.gateway.models;

import io.switchboard.gateway.api.CompletionRequest;
import io.switchboard.gateway.registry.WorkerState;
import io.switchboard.gateway.security.ApiKey;
import io.switchboard.protocol.LoadReport;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.SamplingParams;
import io.switchboard.protocol.WorkerDescriptor;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class ModelChainTest {

  private static final ModelAliases ALIASES = ModelAliases.of(Map.of("chat", List.of("big", "small")),
      "gateway.models.aliases");

  @Test
  void aModelByItsOwnNameIsAChainOfOne() {
    ModelChain chain = ModelChain.of("small", ALIASES, null);
    assertThat(chain.isAlias()).isFalse();
    assertThat(chain.models()).containsExactly("small");
    assertThat(chain.hasNext()).isFalse();
  }

  @Test
  void anAliasWalksItsModelsAndRemembersWhyEachWasPassedOver() {
    ModelChain chain = ModelChain.of("chat", ALIASES, null);
    assertThat(chain.isAlias()).isTrue();
    assertThat(chain.current()).isEqualTo("big");
    assertThat(chain.passedOver()).isEmpty();
    chain.passOver("no worker serves it");
    assertThat(chain.current()).isEqualTo("small");
    assertThat(chain.hasNext()).isFalse();
    assertThat(chain.passedOver()).isEqualTo("big: no worker serves it");
    chain.restartAt(0);
    assertThat(chain.current()).isEqualTo("big");
    assertThat(chain.passedOver()).isEmpty();
  }

  @Test
  void aKeyReachesAllOfAnAliasItListsOrOnlyTheModelsItLists() {
    assertThat(ModelChain.of("chat", ALIASES, key("chat")).models()).containsExactly("big", "small");
    assertThat(ModelChain.of("chat", ALIASES, key("small", "other")).models()).containsExactly("small");
    assertThat(ALIASES.allowedTargets("chat", key("other"))).isEmpty();
    assertThat(ALIASES.allowedTargets("chat", key())).containsExactly("big", "small");
  }

  @Test
  void theContextRuleTakesTheLargestRoutableWorkerAndTrustsOneThatSaysNothing() {
    WorkerState short1 = worker("w1", "big", 100, null);
    WorkerState short2 = worker("w2", "big", 200, null);
    WorkerState unknown = worker("w3", "big", 0, null);
    WorkerState longButExcluded = worker("w4", "big", 100_000, "draining");

    assertThat(ModelChain.tooLong("big", List.of(short1, short2), 200)).isNull();
    assertThat(ModelChain.tooLong("big", List.of(short1, short2), 201))
        .contains("needs about 201 tokens").contains("context length is 200");
    assertThat(ModelChain.tooLong("big", List.of(short1, unknown), 5000)).isNull();
    assertThat(ModelChain.tooLong("big", List.of(short1, longButExcluded), 5000)).isNotNull();
    assertThat(ModelChain.tooLong("big", List.of(longButExcluded), 5000)).as("none routable: another rule decides")
        .isNull();
  }

  @Test
  void aWorkerServingSeveralModelsSaysNothingOfTheOthersContext() {
    WorkerState several = new WorkerState(new WorkerDescriptor("w5", "n", "", "openai", 4, 100, new JsonObject()),
        new LoadReport("w5", "n", "", 0, 0, 4, 4, false, System.currentTimeMillis(), null, List.of("a", "b"), null,
            null), 0, null);
    assertThat(ModelChain.tooLong("b", List.of(several), 5000)).isNull();
  }

  @Test
  void theEstimateIsFourCharactersATokenPlusMaxTokens() {
    assertThat(ModelChain.neededTokens(request("x".repeat(400), null))).isEqualTo(100);
    assertThat(ModelChain.neededTokens(request("x".repeat(401), 50))).isEqualTo(151);
  }

  private static CompletionRequest request(String prompt, Integer maxTokens) {
    return new CompletionRequest(RequestKind.CHAT, "chat", new JsonObject(), prompt,
        new SamplingParams(maxTokens, 1.0, 1.0, List.of(), null), false, false);
  }

  private static WorkerState worker(String id, String model, int context, String exclusion) {
    return new WorkerState(new WorkerDescriptor(id, "node-" + id, model, "mocker", 4, context, new JsonObject()),
        new LoadReport(id, "node-" + id, model, 0, 0, 4, 4, false, System.currentTimeMillis()), 0, exclusion);
  }

  private static ApiKey key(String... models) {
    return new ApiKey("k", new byte[0], Set.of(models), 0, 0);
  }
}
