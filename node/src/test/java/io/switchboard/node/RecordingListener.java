package io.switchboard.node;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A listener that accepts every connection, answers nothing, keeps the bytes each one sent (up to 64 KB, for two
 * seconds) and closes it: what a rogue process announcing an endpoint learns from the nodes that connect to it.
 */
final class RecordingListener implements AutoCloseable {

  private final ServerSocket socket;
  private final List<byte[]> connections = new CopyOnWriteArrayList<>();

  RecordingListener() throws IOException {
    socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::acceptAll, "recording-listener-" + socket.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return socket.getLocalPort();
  }

  private void acceptAll() {
    while (!socket.isClosed()) {
      Socket connection;
      try {
        connection = socket.accept();
      } catch (IOException closed) {
        return;
      }
      Thread reader = new Thread(() -> record(connection), "recording-connection");
      reader.setDaemon(true);
      reader.start();
    }
  }

  private void record(Socket connection) {
    ByteArrayOutputStream received = new ByteArrayOutputStream();
    try (connection) {
      connection.setSoTimeout(2000);
      InputStream in = connection.getInputStream();
      byte[] buffer = new byte[4096];
      long until = System.currentTimeMillis() + 2000;
      while (received.size() < 65536 && System.currentTimeMillis() < until) {
        int n;
        try {
          n = in.read(buffer);
        } catch (SocketTimeoutException quiet) {
          break;
        }
        if (n < 0) {
          break;
        }
        received.write(buffer, 0, n);
      }
    } catch (IOException ignored) {
      // What arrived before the failure is kept.
    }
    connections.add(received.toByteArray());
  }

  /** How many connections were made to it. */
  int connections() {
    return connections.size();
  }

  /** Connections whose first byte was not a TLS handshake record (0x16): a peer that spoke in plaintext. */
  long plaintextConnections() {
    return connections.stream().filter(bytes -> bytes.length > 0 && bytes[0] != 0x16).count();
  }

  /** Bytes received over every connection. */
  long bytes() {
    return connections.stream().mapToLong(bytes -> bytes.length).sum();
  }

  /** Whether {@code text} appears in what any connection sent. */
  boolean received(String text) {
    return connections.stream().anyMatch(bytes -> new String(bytes, StandardCharsets.ISO_8859_1).contains(text));
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
