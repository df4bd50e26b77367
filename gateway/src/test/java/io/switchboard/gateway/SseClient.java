package io.switchboard.gateway;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A deliberately raw HTTP/1.1 client for streaming tests: it can stop reading (a slow client), read a few
 * events and hang up (a client disconnect), which the JDK client does not let a test control precisely.
 */
public final class SseClient implements AutoCloseable {

  private final Socket socket;
  private final BufferedReader reader;
  public final int status;
  public final Map<String, String> headers = new LinkedHashMap<>();

  public SseClient(int port, String path, String body, int receiveBufferBytes) throws IOException {
    socket = new Socket();
    if (receiveBufferBytes > 0) {
      socket.setReceiveBufferSize(receiveBufferBytes);
    }
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    socket.setSoTimeout(30_000);
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    OutputStream out = socket.getOutputStream();
    out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + "Content-Length: " + bytes.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    out.write(bytes);
    out.flush();
    reader = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
    String statusLine = reader.readLine();
    status = Integer.parseInt(statusLine.split(" ")[1]);
    for (String line = reader.readLine(); line != null && !line.isEmpty(); line = reader.readLine()) {
      int colon = line.indexOf(':');
      headers.put(line.substring(0, colon).trim().toLowerCase(), line.substring(colon + 1).trim());
    }
  }

  /** The next SSE data payload, or null at end of stream. Skips chunked-encoding size lines and blanks. */
  public String nextData() throws IOException {
    for (String line = reader.readLine(); line != null; line = reader.readLine()) {
      if (line.startsWith("data: ")) {
        return line.substring(6);
      }
      if (line.equals("0")) {
        return null; // the last chunk of a chunked response
      }
    }
    return null;
  }

  /** Every remaining data payload until the server ends the response. */
  public List<String> remainingData() throws IOException {
    List<String> events = new ArrayList<>();
    for (String data = nextData(); data != null; data = nextData()) {
      events.add(data);
      if ("[DONE]".equals(data)) {
        break;
      }
    }
    return events;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
