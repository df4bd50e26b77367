package io.switchboard.worker.rpc;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The client side of the ggml RPC protocol's opening, as {@code ggml/src/ggml-rpc/ggml-rpc.cpp} defines it:
 * a request is {@code cmd (1 byte) | size (u64 LE) | payload}, a reply {@code size (u64 LE) | payload}.
 * {@code HELLO} is command 14 in every version; since protocol 4 its request carries 24 bytes of connection
 * capabilities (all zero: plain TCP) and a server closes a connection whose HELLO has another size, while
 * older servers expect an empty one. The reply starts with major, minor, patch. Protocol 7 servers also answer
 * {@code DEVICE_COUNT} (15) and {@code GET_DEVICE_MEMORY} (11, per device). Streams only: no sockets, so it
 * can be read by itself; {@link RpcProbe} does the networking.
 */
final class RpcHandshake {

  static final int CMD_GET_DEVICE_MEMORY = 11;
  static final int CMD_HELLO = 14;
  static final int CMD_DEVICE_COUNT = 15;
  static final int CONN_CAPS_SIZE = 24;
  /** The protocol whose device commands this class knows. */
  static final int DEVICE_QUERY_MAJOR = 7;
  /** A reply larger than this is not a ggml rpc-server talking (an HTTP server, say, replying text). */
  private static final long MAX_REPLY = 4096;
  private static final int MAX_DEVICES = 64;

  /** Protocol version a server reported. */
  record Version(int major, int minor, int patch) {
    @Override
    public String toString() {
      return major + "." + minor + "." + patch;
    }
  }

  /** The server did not answer as a ggml rpc-server would; the message says what it did instead. */
  static final class NotRpcException extends IOException {
    NotRpcException(String message) {
      super(message);
    }
  }

  private RpcHandshake() {
  }

  /** Sends HELLO with connection capabilities (protocol 4 and later) or, when {@code legacy}, an empty one. */
  static Version hello(InputStream in, OutputStream out, boolean legacy) throws IOException {
    send(out, CMD_HELLO, new byte[legacy ? 0 : CONN_CAPS_SIZE]);
    byte[] reply = receive(in);
    if (reply.length < 3) {
      throw new NotRpcException("HELLO reply of " + reply.length + " bytes is too short for a version");
    }
    return new Version(reply[0] & 0xff, reply[1] & 0xff, reply[2] & 0xff);
  }

  /** Free and total memory of every device; only for servers of {@link #DEVICE_QUERY_MAJOR}. */
  static List<RpcProbeResult.DeviceMemory> deviceMemory(InputStream in, OutputStream out) throws IOException {
    send(out, CMD_DEVICE_COUNT, new byte[0]);
    byte[] count = receive(in);
    if (count.length != 4) {
      throw new NotRpcException("DEVICE_COUNT reply of " + count.length + " bytes, expected 4");
    }
    int devices = ByteBuffer.wrap(count).order(ByteOrder.LITTLE_ENDIAN).getInt();
    if (devices < 0 || devices > MAX_DEVICES) {
      throw new NotRpcException("implausible device count " + devices);
    }
    List<RpcProbeResult.DeviceMemory> memory = new ArrayList<>();
    for (int device = 0; device < devices; device++) {
      send(out, CMD_GET_DEVICE_MEMORY, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(device).array());
      byte[] reply = receive(in);
      if (reply.length != 16) {
        throw new NotRpcException("GET_DEVICE_MEMORY reply of " + reply.length + " bytes, expected 16");
      }
      ByteBuffer values = ByteBuffer.wrap(reply).order(ByteOrder.LITTLE_ENDIAN);
      memory.add(new RpcProbeResult.DeviceMemory(values.getLong(), values.getLong()));
    }
    return memory;
  }

  static void send(OutputStream out, int command, byte[] payload) throws IOException {
    ByteBuffer frame = ByteBuffer.allocate(1 + 8 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
    frame.put((byte) command).putLong(payload.length).put(payload);
    out.write(frame.array());
    out.flush();
  }

  static byte[] receive(InputStream in) throws IOException {
    DataInputStream data = new DataInputStream(in);
    byte[] sizeBytes = new byte[8];
    try {
      data.readFully(sizeBytes);
    } catch (EOFException closed) {
      throw new EOFException("the server closed the connection without replying");
    }
    long size = ByteBuffer.wrap(sizeBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
    if (size < 0 || size > MAX_REPLY) {
      throw new NotRpcException("it replied with bytes that are not a ggml RPC frame (\"" + printable(sizeBytes)
          + "...\")");
    }
    byte[] payload = new byte[(int) size];
    data.readFully(payload);
    return payload;
  }

  private static String printable(byte[] bytes) {
    StringBuilder text = new StringBuilder();
    for (byte b : bytes) {
      text.append(b >= 32 && b < 127 ? (char) b : '.');
    }
    return text.toString();
  }
}
