package io.switchboard.gateway.routing;

import io.switchboard.gateway.config.GatewayOptions;
import io.switchboard.gateway.registry.WorkerState;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.switchboard.gateway.routing.Workers.idle;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WorkerRouterTest {

  @Test
  void eachModelGetsItsConfiguredPolicyAndItsOwnState() {
    GatewayOptions options = new GatewayOptions().setRoutingPolicy("least-loaded")
        .setModelPolicies(List.of("chat=round-robin", "code = prefix-aware"));
    options.validate("gateway");
    WorkerRouter router = new WorkerRouter(options::policyOf, options.getRouter(), System::nanoTime, null);

    assertThat(router.policyName("chat")).isEqualTo("round-robin");
    assertThat(router.policyName("code")).isEqualTo("prefix-aware");
    assertThat(router.policyName("other")).isEqualTo("least-loaded");
    assertThat(new GatewayOptions().policyOf("any")).isEqualTo("prefix-aware");
  }

  @Test
  void aRoutedRequestCountsAsOpenOnItsWorkerUntilReleased() {
    WorkerRouter router = new WorkerRouter(model -> "least-loaded", new RouterOptions(), System::nanoTime, null);
    List<WorkerState> workers = idle("a", "b");

    Route first = router.route(new RouteRequest("m", "x".repeat(100), null), workers);
    Route second = router.route(new RouteRequest("m", "x", null), workers);

    assertThat(first.pick().worker().workerId()).isNotEqualTo(second.pick().worker().workerId());
    WorkerState worker = first.pick().worker();
    assertThat(worker.routingLoad()).isEqualTo(1);
    assertThat(worker.openHere().pendingPrefillChars()).isEqualTo(100);
    first.firstToken();
    assertThat(worker.openHere().pendingPrefillChars()).isZero();
    assertThat(worker.routingLoad()).isEqualTo(1);
    first.release();
    first.release();
    assertThat(worker.routingLoad()).isZero();
    second.release();
    assertThat(second.pick().worker().openHere().pendingPrefillChars()).isZero();
  }

  @Test
  void badModelPoliciesAndRouterSettingsAreRejectedWithTheKeyNamed() {
    assertThatThrownBy(() -> new GatewayOptions().setModelPolicies(List.of("chat")).validate("gateway"))
        .hasMessageContaining("gateway.modelPolicies").hasMessageContaining("MODEL=POLICY");
    assertThatThrownBy(() -> new GatewayOptions().setModelPolicies(List.of("chat=fastest")).validate("gateway"))
        .hasMessageContaining("'chat=fastest'");
    assertThatThrownBy(() -> new GatewayOptions().setModelPolicies(List.of("a=random", "a=round-robin"))
        .validate("gateway")).hasMessageContaining("twice");
    assertThatThrownBy(() -> new GatewayOptions().setRouter(new RouterOptions().setBalanceRelThreshold(0.5))
        .validate("gateway")).hasMessageContaining("gateway.router.balanceRelThreshold");
    assertThatThrownBy(() -> new GatewayOptions().setRouter(new RouterOptions().setPrefixBlockChars(2))
        .validate("gateway")).hasMessageContaining("gateway.router.prefixBlockChars");
    assertThatThrownBy(() -> new GatewayOptions().setRouter(new RouterOptions().setSessionHeader("x session"))
        .validate("gateway")).hasMessageContaining("gateway.router.sessionHeader");
  }
}
