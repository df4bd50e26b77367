package io.switchboard.node;

import io.vertx.core.transport.Transport;

import java.util.List;
import java.util.Set;

/**
 * Which socket transport the node's Vert.x runs on ({@code node.transport}). {@code auto} takes epoll, Netty's
 * native Linux transport, when this machine can load it, and Java's NIO otherwise (a non-Linux machine): epoll
 * costs the node's event loop less per request (paired runs of load-tests/bin/compare; the numbers are in
 * docs/performance.md). io_uring is not in auto: under 200 concurrent gRPC-plane streams
 * Netty 4.2.9's io_uring transport overflowed its completion queue and reset a call (the client got a 502), so it
 * runs only when named. A transport named explicitly must be available, or the node does not start.
 */
record NetworkTransportChoice(Transport transport, String reason) {

  static final String AUTO = "auto";
  static final Set<String> NAMES = Set.of(AUTO, "io_uring", "epoll", "nio");
  private static final List<Transport> AUTO_ORDER = List.of(Transport.EPOLL, Transport.NIO);
  private static final List<Transport> NAMED = List.of(Transport.IO_URING, Transport.EPOLL, Transport.NIO);

  static NetworkTransportChoice pick(String configured) {
    return pick(configured, AUTO.equals(configured) ? AUTO_ORDER : NAMED);
  }

  /** {@code candidates}: for auto, the transports in the order it tries them, NIO last; else those to pick from. */
  static NetworkTransportChoice pick(String configured, List<Transport> candidates) {
    if (AUTO.equals(configured)) {
      StringBuilder skipped = new StringBuilder();
      for (Transport candidate : candidates) {
        if (candidate.available()) {
          return new NetworkTransportChoice(candidate, skipped.isEmpty() ? "node.transport auto: the fastest this machine has"
              : "node.transport auto; skipped " + skipped);
        }
        skipped.append(skipped.isEmpty() ? "" : ", ").append(candidate.name()).append(" (")
            .append(causeOf(candidate)).append(')');
      }
      throw new IllegalStateException("NIO is always available");
    }
    Transport named = candidates.stream().filter(t -> t.name().equals(configured)).findFirst()
        .orElseThrow(() -> new ConfigException("node.transport must be one of " + NAMES + ", got '" + configured + "'"));
    if (!named.available()) {
      throw new ConfigException("node.transport is '" + configured + "' but this machine cannot run it: "
          + causeOf(named) + "; set node.transport to auto (SWITCHBOARD_NODE_TRANSPORT=auto) to use the best available");
    }
    return new NetworkTransportChoice(named, "node.transport " + configured);
  }

  private static String causeOf(Transport transport) {
    Throwable cause = transport.unavailabilityCause();
    return cause == null ? "not available" : cause.getClass().getSimpleName()
        + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
  }
}
