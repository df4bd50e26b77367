package io.switchboard.gateway.plane;

import io.vertx.core.net.SocketAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/** A worker's published gRPC endpoint is read strictly: a malformed one means "no usable endpoint", not a crash. */
class GrpcEndpointParseTest {

  @Test
  void hostAndPortAreRead() {
    SocketAddress address = GrpcRequestPlane.parse("127.0.0.1:40123");
    assertThat(address.host()).isEqualTo("127.0.0.1");
    assertThat(address.port()).isEqualTo(40123);
  }

  @Test
  void bracketedIpv6IsRead() {
    SocketAddress address = GrpcRequestPlane.parse("[::1]:7443");
    assertThat(address.host()).isEqualTo("::1");
    assertThat(address.port()).isEqualTo(7443);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "host", "host:", ":7443", "host:0", "host:65536", "host:-1", "host:http"})
  void malformedEndpointsAreRefused(String endpoint) {
    assertThat(GrpcRequestPlane.parse(endpoint)).isNull();
  }
}
