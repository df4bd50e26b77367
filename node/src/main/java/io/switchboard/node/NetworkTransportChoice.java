package io.switchboard.node;

import io.vertx.core.transport.Transport;

import java.util.List;
import java.util.Set;

/**
 * Which socket transport the node's Vert.x runs on ({@code node.transport}). {@code auto} takes the first of
 * io_uring, epoll and NIO that this machine can run: io_uring and epoll are Netty's native Linux transports and
 * cost the node's event loop less per request than Java's NIO (load-tests/bin/compare: 44 µs of CPU per proxied
 * request on NIO, 38 on epoll, 36 on io_uring). A container whose seccomp profile refuses io_uring, or a non-Linux
 * machine, falls through to the next. A transport named explicitly must be available, or the node does not start.
 */
record NetworkTransportChoice(Transport transport, String reason) {

  static final String AUTO = "auto";
  static final Set<String> NAMES = Set.of(AUTO, "io_uring", "epoll", "nio");
  private static final List<Transport> AUTO_ORDER = List.of(Transport.IO_URING, Transport.EPOLL, Transport.NIO);

  static NetworkTransportChoice pick(String configured) {
    return pick(configured, AUTO_ORDER);
  }

  /** {@code candidates}: the transports in the order auto tries them, NIO last. */
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
