package io.switchboard.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;

/**
 * Ports for servers a test starts in another process (a node, a llama-server), which cannot report the port they
 * bound the way a server in the test's own JVM does with port 0. The port was free a moment ago; another process may
 * take it before the server binds it, which on a test machine is rare enough to accept.
 */
public final class FreePorts {

  private FreePorts() {
  }

  /** A loopback port that nothing listened on when asked. */
  public static int any() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port: " + e.getMessage(), e);
    }
  }
}
