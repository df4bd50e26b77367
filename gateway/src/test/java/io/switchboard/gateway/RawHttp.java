package io.switchboard.gateway;

import io.vertx.core.json.JsonObject;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One HTTP/1.1 exchange over a fresh socket, bytes exactly as given: for requests no well-behaved client would
 * send (broken framing, invalid UTF-8, header abuse). Reads until the server closes or the body is complete.
 */
public final class RawHttp {

  /** What came back; status 0 = the connection closed (or timed out) before a status line. */
  public record Response(int status, Map<String, String> headers, String body) {
    public JsonObject json() {
      return new JsonObject(body);
    }

    public JsonObject error() {
      return json().getJsonObject("error");
    }
  }

  private RawHttp() {
  }

  /** A POST of {@code body} with a correct Content-Length and {@code Connection: close}, plus {@code extraHeaders}. */
  public static Response post(int port, String path, byte[] body, String extraHeaders) throws IOException {
    byte[] head = ("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + "Content-Length: " + body.length + "\r\nConnection: close\r\n" + extraHeaders + "\r\n")
        .getBytes(StandardCharsets.ISO_8859_1);
    byte[] request = new byte[head.length + body.length];
    System.arraycopy(head, 0, request, 0, head.length);
    System.arraycopy(body, 0, request, head.length, body.length);
    return exchange(port, request);
  }

  public static Response post(int port, String path, String body, String extraHeaders) throws IOException {
    return post(port, path, body.getBytes(StandardCharsets.UTF_8), extraHeaders);
  }

  public static Response get(int port, String path, String extraHeaders) throws IOException {
    return exchange(port, ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extraHeaders
        + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
  }

  public static Response exchange(int port, byte[] request) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      socket.setSoTimeout(15_000);
      try {
        socket.getOutputStream().write(request);
        socket.getOutputStream().flush();
      } catch (IOException closedWhileSending) {
        // The server may answer (413, 431) and close before it read everything: read what it said.
      }
      return read(socket.getInputStream());
    }
  }

  private static Response read(InputStream in) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    byte[] buffer = new byte[8192];
    try {
      int n;
      while ((n = in.read(buffer)) > 0) {
        all.write(buffer, 0, n);
        if (complete(all.toString(StandardCharsets.UTF_8))) {
          break;
        }
      }
    } catch (SocketTimeoutException | java.net.SocketException cut) {
      // whatever arrived is the answer
    }
    String text = withoutInterim(all.toString(StandardCharsets.UTF_8));
    int end = text.indexOf("\r\n\r\n");
    if (!text.startsWith("HTTP/") || end < 0) {
      return new Response(0, Map.of(), text);
    }
    String[] lines = text.substring(0, end).split("\r\n");
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
    }
    int space = lines[0].indexOf(' ');
    return new Response(Integer.parseInt(lines[0].substring(space + 1, space + 4)), headers, text.substring(end + 4));
  }

  /** Drops interim 1xx responses (100 Continue) before the final one. */
  private static String withoutInterim(String text) {
    while (text.matches("(?s)HTTP/1\\.\\d 1\\d\\d .*") && text.contains("\r\n\r\n")) {
      text = text.substring(text.indexOf("\r\n\r\n") + 4);
    }
    return text;
  }

  private static boolean complete(String text) {
    text = withoutInterim(text);
    int end = text.indexOf("\r\n\r\n");
    if (end < 0) {
      return false;
    }
    String head = text.substring(0, end).toLowerCase(Locale.ROOT);
    int at = head.indexOf("content-length:");
    if (at < 0) {
      return false;
    }
    int lineEnd = head.indexOf("\r\n", at);
    long length = Long.parseLong(head.substring(at + 15, lineEnd < 0 ? head.length() : lineEnd).trim());
    return text.getBytes(StandardCharsets.UTF_8).length - (end + 4) >= length;
  }
}
