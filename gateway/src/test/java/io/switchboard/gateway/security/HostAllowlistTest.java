package io.switchboard.gateway.security;

import io.vertx.core.net.HostAndPort;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class HostAllowlistTest {

  private static HostAndPort host(String authority) {
    return HostAndPort.parseAuthority(authority, -1);
  }

  @Test
  void aLoopbackGatewayAnswersLoopbackNamesOnly() {
    HostAllowlist hosts = new HostAllowlist("127.0.0.1", List.of());
    for (String allowed : List.of("localhost", "localhost:8080", "LOCALHOST:1", "127.0.0.1", "127.0.0.1:8080",
        "127.9.8.7:80", "[::1]", "[::1]:8080")) {
      assertThat(hosts.allows(host(allowed))).as(allowed).isTrue();
    }
    for (String refused : List.of("evil.example", "evil.example:8080", "localhost.evil.example", "127.0.0.1.nip.io",
        "10.0.0.1:8080", "0.0.0.0:8080", "[::2]:8080", "169.254.169.254")) {
      assertThat(hosts.allows(host(refused))).as(refused).isFalse();
    }
    assertThat(hosts.allows(null)).as("HTTP/1.0 without Host").isTrue();
  }

  @Test
  void allowedHostsAddNamesAndStarAllowsAny() {
    HostAllowlist hosts = new HostAllowlist("localhost", List.of("Gateway.Example", "[fd00::5]"));
    assertThat(hosts.loopbackListener()).isTrue();
    assertThat(hosts.allows(host("gateway.example:8443"))).isTrue();
    assertThat(hosts.allows(host("[fd00::5]:8080"))).isTrue();
    assertThat(hosts.allows(host("other.example"))).isFalse();
    assertThat(new HostAllowlist("::1", List.of("*")).allows(host("anything.example"))).isTrue();
  }

  @Test
  void aGatewayListeningBeyondLoopbackAnswersAnyNameUnlessNamesAreListed() {
    assertThat(new HostAllowlist("0.0.0.0", List.of()).allows(host("evil.example"))).isTrue();
    assertThat(new HostAllowlist("10.0.0.5", List.of()).loopbackListener()).isFalse();
    HostAllowlist listed = new HostAllowlist("0.0.0.0", List.of("gateway.example"));
    assertThat(listed.allows(host("gateway.example"))).isTrue();
    assertThat(listed.allows(host("127.0.0.1:8080"))).isTrue();
    assertThat(listed.allows(host("evil.example"))).isFalse();
  }
}
