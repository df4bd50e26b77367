package io.switchboard.gateway;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A client that sends one request on a keep-alive connection, reads the response's head and the first bytes of
 * its body, and then stops reading, as a client that hangs or is attacked mid-answer would. Its receive buffer is
 * small, so the server's side backs up after a few kilobytes more. Later it can check whether the server closed
 * the connection (the only way a keep-alive connection ends that the client did not end).
 */
public final class StalledReader implements AutoCloseable {

  /** How the connection stood when the client looked again. */
  public record Ending(boolean closedByServer, long bytesAfterStall, String how) {
  }

  private final Socket socket;
  private final InputStream in;
  public final int status;
  public final Map<String, String> headers = new LinkedHashMap<>();
  /** Body bytes read before the client stopped reading (the whole body of an error). */
  public final String head;

  /**
   * @param receiveBufferBytes the socket's receive buffer (set before connecting, so the window stays small)
   * @param bodyBytes          body bytes to read before stopping
   */
  public StalledReader(int port, String path, String body, int receiveBufferBytes, int bodyBytes) throws IOException {
    socket = new Socket();
    socket.setReceiveBufferSize(receiveBufferBytes);
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    socket.setSoTimeout(30_000);
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    OutputStream out = socket.getOutputStream();
    out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + "Content-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    out.write(bytes);
    out.flush();
    in = socket.getInputStream();
    ByteArrayOutputStream headBytes = new ByteArrayOutputStream();
    while (!headBytes.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("the server closed the connection before the response head ended: " + headBytes);
      }
      headBytes.write(b);
    }
    String[] lines = headBytes.toString(StandardCharsets.ISO_8859_1).split("\r\n");
    status = Integer.parseInt(lines[0].split(" ")[1]);
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
    }
    // An error answer has a length: read it whole (the test will want to see why).
    String length = headers.get("content-length");
    byte[] first = in.readNBytes(status == 200 || length == null ? bodyBytes : Integer.parseInt(length));
    head = new String(first, StandardCharsets.UTF_8);
  }

  /**
   * Reads on until the server closes or resets the connection, or {@code withinMs} pass with it still open (then
   * the server still holds it, or is still sending).
   */
  public Ending readOn(long withinMs) throws IOException {
    long until = System.nanoTime() + withinMs * 1_000_000;
    byte[] buffer = new byte[64 * 1024];
    long bytes = 0;
    while (System.nanoTime() < until) {
      socket.setSoTimeout((int) Math.max(1, Math.min(1000, (until - System.nanoTime()) / 1_000_000)));
      try {
        int n = in.read(buffer);
        if (n < 0) {
          return new Ending(true, bytes, "closed");
        }
        bytes += n;
      } catch (SocketTimeoutException quiet) {
        // still open, nothing to read: look again until the time is up
      } catch (SocketException reset) {
        return new Ending(true, bytes, "reset: " + reset.getMessage());
      }
    }
    return new Ending(false, bytes, "still open after " + withinMs + " ms");
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
