package io.switchboard.worker.rpc;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.List;

/**
 * Checks that a candidate is a ggml rpc-server this build can use, with a real handshake: HELLO, the protocol
 * version, and device memory where the protocol allows. Nothing joins the rpc pool without passing it; dummy
 * entries (port 0, a host that does not resolve), listeners that are not rpc-servers and incompatible versions
 * are rejected with a reason an operator can act on.
 *
 * <p>An rpc-server serves one client at a time: while a llama-server uses it, a new connection waits in its
 * accept backlog and gets no HELLO reply. So a pool member already in use is re-checked with
 * {@link #reachable}: the TCP connect alone, which fails at once when the process is gone.
 *
 * <p>Blocking socket work runs on the worker pool, never on an event loop.
 */
public final class RpcProbe {

  /** The protocol major version of the llama.cpp this project builds (tools/build-llama-cpp). */
  public static final int DEFAULT_PROTOCOL_MAJOR = 7;
  public static final int DEFAULT_TIMEOUT_MS = 2000;

  private final Vertx vertx;
  private final int protocolMajor;
  private final int timeoutMs;

  public RpcProbe(Vertx vertx, int protocolMajor, int timeoutMs) {
    this.vertx = vertx;
    this.protocolMajor = protocolMajor;
    this.timeoutMs = timeoutMs;
  }

  public RpcProbe(Vertx vertx) {
    this(vertx, DEFAULT_PROTOCOL_MAJOR, DEFAULT_TIMEOUT_MS);
  }

  /** The full check, for a candidate that is not in use: never fails, the result says why it was rejected. */
  public Future<RpcProbeResult> handshake(String host, int port) {
    return vertx.executeBlocking(() -> handshakeBlocking(host, port), false);
  }

  /** The liveness check of a member in use: true when a TCP connection to it succeeds. */
  public Future<Boolean> reachable(String host, int port) {
    return vertx.executeBlocking(() -> {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress(host, port), timeoutMs);
        return true;
      } catch (IOException | IllegalArgumentException gone) {
        return false;
      }
    }, false);
  }

  RpcProbeResult handshakeBlocking(String host, int port) {
    String endpoint = host + ":" + port;
    long start = System.nanoTime();
    if (port <= 0 || port > 65535) {
      return RpcProbeResult.rejected(endpoint, null, "port " + port + " is not a real port (a placeholder entry?)",
          elapsed(start));
    }
    InetAddress address;
    try {
      address = InetAddress.getByName(host);
    } catch (UnknownHostException unresolvable) {
      return RpcProbeResult.rejected(endpoint, null, "host '" + host + "' does not resolve", elapsed(start));
    }
    RpcHandshake.Version version;
    try {
      try {
        version = hello(address, port, false);
      } catch (EOFException closedAtHello) {
        // Servers before protocol 4 expect an empty HELLO and close on the longer one.
        version = hello(address, port, true);
      }
    } catch (ConnectException refused) {
      return RpcProbeResult.rejected(endpoint, null, "nothing listens there (connection refused)", elapsed(start));
    } catch (SocketTimeoutException silent) {
      return RpcProbeResult.rejected(endpoint, null, "no HELLO reply within " + timeoutMs + " ms (not an "
          + "rpc-server, or one busy serving another client)", elapsed(start));
    } catch (EOFException closed) {
      return RpcProbeResult.rejected(endpoint, null, "it closed the connection at HELLO (not a ggml rpc-server, or "
          + "one older than protocol 3)", elapsed(start));
    } catch (RpcHandshake.NotRpcException notRpc) {
      return RpcProbeResult.rejected(endpoint, null, "not a ggml rpc-server: " + notRpc.getMessage(),
          elapsed(start));
    } catch (IOException failed) {
      return RpcProbeResult.rejected(endpoint, null, "the handshake failed: " + failed.getMessage(),
          elapsed(start));
    }
    if (version.major() != protocolMajor) {
      return RpcProbeResult.rejected(endpoint, version.toString(), "it speaks ggml RPC protocol " + version
          + " but this llama-server speaks " + protocolMajor + ".x: run an rpc-server built from the same "
          + "llama.cpp version (tools/build-llama-cpp)", elapsed(start));
    }
    List<RpcProbeResult.DeviceMemory> devices = List.of();
    if (version.major() == RpcHandshake.DEVICE_QUERY_MAJOR) {
      try (Socket socket = connect(address, port)) {
        RpcHandshake.hello(socket.getInputStream(), socket.getOutputStream(), false);
        devices = RpcHandshake.deviceMemory(socket.getInputStream(), socket.getOutputStream());
      } catch (IOException memoryUnknown) {
        // The version matched; memory is a detail for the operator, not a reason to refuse the backend.
        devices = List.of();
      }
    }
    return RpcProbeResult.accepted(endpoint, version.toString(), devices, elapsed(start));
  }

  private RpcHandshake.Version hello(InetAddress address, int port, boolean legacy) throws IOException {
    try (Socket socket = connect(address, port)) {
      return RpcHandshake.hello(socket.getInputStream(), socket.getOutputStream(), legacy);
    }
  }

  private Socket connect(InetAddress address, int port) throws IOException {
    Socket socket = new Socket();
    try {
      socket.connect(new InetSocketAddress(address, port), timeoutMs);
      socket.setSoTimeout(timeoutMs);
      socket.setTcpNoDelay(true);
      return socket;
    } catch (IOException failed) {
      socket.close();
      throw failed;
    }
  }

  private static long elapsed(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
