package io.switchboard.node;

import io.vertx.core.transport.Transport;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NetworkTransportChoiceTest {

  @Test
  void autoTakesEpollWhereItLoadsAndNioElsewhere() {
    Transport expected = Transport.EPOLL.available() ? Transport.EPOLL : Transport.NIO;

    NetworkTransportChoice choice = NetworkTransportChoice.pick("auto");

    assertThat(choice.transport()).isSameAs(expected);
    assertThat(choice.reason()).startsWith("node.transport auto");
    if (expected == Transport.NIO) {
      assertThat(choice.reason()).contains("skipped epoll (");
    }
  }

  @Test
  void ioUringRunsOnlyWhenNamed() {
    assertThat(NetworkTransportChoice.pick("auto").transport()).isNotSameAs(Transport.IO_URING);
    if (Transport.IO_URING.available()) {
      assertThat(NetworkTransportChoice.pick("io_uring").transport()).isSameAs(Transport.IO_URING);
    }
  }

  @Test
  void nioIsAlwaysThere() {
    assertThat(NetworkTransportChoice.pick("nio").transport()).isSameAs(Transport.NIO);
  }

  @Test
  void theNativeTransportsAreInTheNodeOnLinuxX86() {
    // The jar carries Netty's epoll and io_uring libraries for linux-x86_64; on that platform epoll must load.
    if (System.getProperty("os.name").startsWith("Linux") && System.getProperty("os.arch").equals("amd64")) {
      assertThat(Transport.EPOLL.available()).as("epoll: %s", Transport.EPOLL.unavailabilityCause()).isTrue();
      assertThat(NetworkTransportChoice.pick("epoll").transport()).isSameAs(Transport.EPOLL);
    }
  }

  @Test
  void autoSkipsWhatCannotRunAndSaysWhy() {
    Transport refused = unavailable("epoll", new UnsatisfiedLinkError("no netty_transport_native_epoll"));

    NetworkTransportChoice choice = NetworkTransportChoice.pick("auto", List.of(refused, Transport.NIO));

    assertThat(choice.transport()).isSameAs(Transport.NIO);
    assertThat(choice.reason())
        .isEqualTo("node.transport auto; skipped epoll (UnsatisfiedLinkError: no netty_transport_native_epoll)");
  }

  @Test
  void aNamedTransportThatCannotRunStopsTheNodeWithTheCause() {
    Transport refused = unavailable("epoll", new UnsatisfiedLinkError("no netty_transport_native_epoll"));

    assertThatThrownBy(() -> NetworkTransportChoice.pick("epoll", List.of(refused, Transport.NIO)))
        .isInstanceOf(ConfigException.class)
        .hasMessage("node.transport is 'epoll' but this machine cannot run it: UnsatisfiedLinkError: no "
            + "netty_transport_native_epoll; set node.transport to auto (SWITCHBOARD_NODE_TRANSPORT=auto) to use the "
            + "best available");
  }

  private static Transport unavailable(String name, Throwable cause) {
    return new Transport() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public boolean available() {
        return false;
      }

      @Override
      public Throwable unavailabilityCause() {
        return cause;
      }

      @Override
      public io.vertx.core.spi.transport.Transport implementation() {
        throw new UnsupportedOperationException(name + " is not available");
      }
    };
  }
}
