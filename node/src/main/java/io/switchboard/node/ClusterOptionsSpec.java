package io.switchboard.node;

import io.switchboard.runtime.config.GenerateOptions;
import io.switchboard.runtime.config.OptionChecks;
import io.switchboard.runtime.config.Range;

import java.util.List;
import java.util.Locale;

/** How a node joins the cluster: its address, the members it contacts, and the cluster's name. */
@GenerateOptions
public abstract class ClusterOptionsSpec {

  /** Address this node binds the cluster (Hazelcast) and event-bus transports to. */
  public static final String DEFAULT_HOST = "127.0.0.1";
  /** First Hazelcast port tried; the next free one is taken when busy (several nodes on one machine). */
  public static final int DEFAULT_PORT = 5701;

  String name = "switchboard";
  String host = DEFAULT_HOST;
  @Range(min = 1, max = 65535)
  int port = DEFAULT_PORT;
  /** Members contacted to join: addresses, optionally with ports ("10.0.0.5:5701"). */
  List<String> members = List.of("127.0.0.1");
  /** Event-bus port; 0 lets the OS choose (the port is published through the cluster). */
  @Range(min = 0, max = 65535, meaning = " (0 = any free port)")
  int eventBusPort = 0;
  /** Event-bus TLS: this node's PEM certificate chain and key, and the PEM CA that signed every node's; all or none. */
  String tlsCertPath;
  String tlsKeyPath;
  String tlsCaPath;
  /** Whether a node may listen beyond loopback without cluster TLS (plaintext, unauthenticated): only when said. */
  boolean insecure = false;

  /** TLS between nodes for the gRPC plane (the same files as the event bus's). */
  public io.switchboard.runtime.tls.PeerTls peerTls() {
    return eventBusTls() ? new io.switchboard.runtime.tls.PeerTls(tlsCertPath, tlsKeyPath, tlsCaPath)
        : io.switchboard.runtime.tls.PeerTls.NONE;
  }

  /** Whether event-bus traffic between nodes is TLS with mutual authentication. */
  public boolean eventBusTls() {
    return tlsCertPath != null && !tlsCertPath.isBlank();
  }

  public void validate(String path) {
    if (name == null || !name.matches("[A-Za-z0-9._-]{1,64}")) {
      throw new IllegalArgumentException(path + ".name must be 1-64 letters, digits, '.', '_' or '-', got '"
          + name + "'");
    }
    OptionChecks.notBlank(path + ".host", host, "this node's address on the cluster network, e.g. 127.0.0.1 or "
        + "10.0.0.5");
    int tlsSet = (blank(tlsCertPath) ? 0 : 1) + (blank(tlsKeyPath) ? 0 : 1) + (blank(tlsCaPath) ? 0 : 1);
    if (tlsSet != 0 && tlsSet != 3) {
      throw new IllegalArgumentException(path + ".tlsCertPath, tlsKeyPath and tlsCaPath go together: set all three "
          + "(PEM files: this node's certificate, its key, and the CA that signed every node's) for event-bus TLS, "
          + "or none");
    }
    for (String file : tlsSet == 3 ? List.of(tlsCertPath, tlsKeyPath, tlsCaPath) : List.<String>of()) {
      if (!java.nio.file.Files.isReadable(java.nio.file.Path.of(file))) {
        throw new IllegalArgumentException(path + ": cannot read PEM file '" + file + "' (missing, or not readable by "
            + "this user)");
      }
    }
    if (members.isEmpty()) {
      throw new IllegalArgumentException(path + ".members must list at least one address to join through, "
          + "e.g. [127.0.0.1]");
    }
    for (String member : members) {
      if (!member.matches("[A-Za-z0-9.\\-\\[\\]:]+")) {
        throw new IllegalArgumentException(path + ".members holds '" + member + "', which is not a host or "
            + "host:port");
      }
    }
  }

  /**
   * Whether {@code host} is a loopback address: {@code localhost}, 127.0.0.0/8 or ::1, written as such (a name is
   * not resolved: one that is not {@code localhost} counts as reaching beyond the machine).
   */
  public static boolean isLoopback(String host) {
    if (host == null) {
      return false;
    }
    String h = host.trim().toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    if (h.equals("localhost") || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1")) {
      return true;
    }
    String[] octets = h.split("\\.", -1);
    if (octets.length != 4 || !octets[0].equals("127")) {
      return false;
    }
    for (String octet : octets) {
      if (!octet.matches("\\d{1,3}") || Integer.parseInt(octet) > 255) {
        return false;
      }
    }
    return true;
  }

  private static boolean blank(String value) {
    return value == null || value.isBlank();
  }
}
