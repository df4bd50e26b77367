package io.switchboard.node;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Separate hosts on one machine: a Linux network namespace per host, each joined to a bridge in the root
 * namespace by a veth pair, with addresses in a private /24 that no route or address of this machine uses. The
 * test process (in the root namespace) reaches every host over the bridge; a host's link can be cut and restored.
 * Everything it creates is removed by {@link #close()}, and by a JVM shutdown hook if the test never gets there;
 * what runs inside the namespaces is handed over with {@link #stopBeforeRemoval} and stopped first. Names carry a
 * random id, so two runs side by side never touch each other's.
 */
final class NamespaceNetwork implements AutoCloseable {

  private final String id;
  private final String prefix;
  private final String bridge;
  private final Map<String, Host> hosts = new LinkedHashMap<>();
  private final List<AutoCloseable> residents = new ArrayList<>();
  private final Thread cleanupOnExit = new Thread(this::removeEverything, "namespace-network-cleanup");
  private boolean closed;

  /** One host: its namespace, its address, and the root-side end of its link (cut to partition it). */
  record Host(String name, String namespace, String address, String link) {
  }

  private NamespaceNetwork(String id, String prefix) {
    this.id = id;
    this.prefix = prefix;
    this.bridge = "sb" + id + "br";
  }

  /**
   * Why namespaces cannot be made here, or null when they can: it tries (root, the {@code ip} tool, kernel
   * support) by creating and removing one namespace.
   */
  static String unavailableReason() {
    String probe = "sb-probe-" + Long.toHexString(new Random().nextLong() & 0xffffffL);
    try {
      Result added = ip("netns", "add", probe);
      if (added.exit != 0) {
        return "'ip netns add' failed (it needs root, and a kernel with network namespaces): "
            + added.output.strip();
      }
      ip("netns", "delete", probe);
      return null;
    } catch (IOException noIp) {
      return "the 'ip' tool (iproute2) is not installed: " + noIp.getMessage();
    }
  }

  /** Creates the bridge and one namespace per name, addressed .2, .3, ... in a free 10.x.y.0/24. */
  static NamespaceNetwork create(String... names) throws IOException {
    Random random = new Random();
    String id = String.format("%05x", random.nextInt(0x100000));
    NamespaceNetwork network = new NamespaceNetwork(id, freePrefix(random));
    Runtime.getRuntime().addShutdownHook(network.cleanupOnExit);
    try {
      network.run("link", "add", network.bridge, "type", "bridge");
      network.run("addr", "add", network.prefix + ".1/24", "dev", network.bridge);
      network.run("link", "set", network.bridge, "up");
      int next = 2;
      for (String name : names) {
        network.addHost(name, network.prefix + "." + next++);
      }
      return network;
    } catch (IOException | RuntimeException failed) {
      network.close();
      throw failed;
    }
  }

  private void addHost(String name, String address) throws IOException {
    String namespace = "sb-" + id + "-" + name;
    String link = "sb" + id + hosts.size() + "h";
    String inside = "sb" + id + hosts.size() + "n";
    hosts.put(name, new Host(name, namespace, address, link));
    run("netns", "add", namespace);
    run("link", "add", link, "type", "veth", "peer", "name", inside);
    run("link", "set", inside, "netns", namespace);
    run("link", "set", link, "master", bridge, "up");
    run("-n", namespace, "link", "set", "lo", "up");
    run("-n", namespace, "addr", "add", address + "/24", "dev", inside);
    run("-n", namespace, "link", "set", inside, "up");
  }

  Host host(String name) {
    Host host = hosts.get(name);
    if (host == null) {
      throw new IllegalArgumentException("no host " + name + " in " + hosts.keySet());
    }
    return host;
  }

  /** The command prefix that runs a program inside the host's namespace. */
  List<String> launcher(String name) {
    return List.of("ip", "netns", "exec", host(name).namespace());
  }

  /** Something running inside the namespaces (a node process): it is stopped before they are removed. */
  synchronized void stopBeforeRemoval(AutoCloseable resident) {
    residents.add(resident);
  }

  /** Takes the host's link down: nothing reaches it and it reaches nothing, as when its switch port dies. */
  void cut(String name) throws IOException {
    run("link", "set", host(name).link(), "down");
  }

  void restore(String name) throws IOException {
    run("link", "set", host(name).link(), "up");
  }

  String describe() {
    StringBuilder text = new StringBuilder(prefix + ".0/24 on bridge " + bridge + ":");
    hosts.values().forEach(h -> text.append(' ').append(h.name()).append('=').append(h.address())
        .append(" (").append(h.namespace()).append(')'));
    return text.toString();
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    removeEverything();
    closed = true;
    try {
      Runtime.getRuntime().removeShutdownHook(cleanupOnExit);
    } catch (IllegalStateException shuttingDown) {
      // The hook is running or about to: it removes what is left.
    }
  }

  /**
   * Stops the residents, then deletes the namespaces (which deletes the veth ends inside them, and so their peers),
   * what is left of the links, and the bridge.
   */
  private synchronized void removeEverything() {
    for (AutoCloseable resident : residents) {
      try {
        resident.close();
      } catch (Exception stopFailed) {
        System.err.println("could not stop " + resident + ": " + stopFailed);
      }
    }
    for (Host host : hosts.values()) {
      quietly("netns", "delete", host.namespace());
      quietly("link", "delete", host.link());
    }
    quietly("link", "delete", bridge);
  }

  private void quietly(String... args) {
    try {
      ip(args);
    } catch (IOException ignored) {
      // Already gone, or ip vanished: nothing more to remove.
    }
  }

  private void run(String... args) throws IOException {
    Result result = ip(args);
    if (result.exit != 0) {
      throw new IOException("ip " + String.join(" ", args) + " failed (exit " + result.exit + "): "
          + result.output.strip());
    }
  }

  private record Result(int exit, String output) {
  }

  private static Result ip(String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of("ip"));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    try {
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IOException("ip " + String.join(" ", args) + " did not finish in 30 s");
      }
      return new Result(process.exitValue(), output);
    } catch (InterruptedException interrupted) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while running ip " + String.join(" ", args), interrupted);
    }
  }

  /** A 10.x.y.0/24 (x in 200-254) that overlaps no route and no address of the root namespace. */
  private static String freePrefix(Random random) throws IOException {
    List<long[]> used = new ArrayList<>();
    for (String[] listing : List.of(new String[] {"-4", "route", "show", "table", "all"},
        new String[] {"-4", "-o", "addr", "show"})) {
      for (String line : ip(listing).output.split("\n")) {
        for (String word : line.trim().split("\\s+")) {
          if (word.matches("\\d+\\.\\d+\\.\\d+\\.\\d+(/\\d+)?")) {
            used.add(range(word));
          }
        }
      }
    }
    for (int attempt = 0; attempt < 200; attempt++) {
      String candidate = "10." + (200 + random.nextInt(55)) + "." + random.nextInt(256);
      long[] mine = range(candidate + ".0/24");
      if (used.stream().noneMatch(other -> other[0] <= mine[1] && mine[0] <= other[1])) {
        return candidate;
      }
    }
    throw new IOException("found no free 10.x.y.0/24 for the test network");
  }

  /** First and last address of a prefix ("a.b.c.d/n", or one address) as unsigned numbers. */
  private static long[] range(String cidr) throws IOException {
    String[] parts = cidr.split("/");
    byte[] bytes = InetAddress.getByName(parts[0]).getAddress();
    long address = 0;
    for (byte b : bytes) {
      address = (address << 8) | (b & 0xff);
    }
    int bits = parts.length > 1 ? Integer.parseInt(parts[1]) : 32;
    long size = 1L << (32 - bits);
    long first = address & ~(size - 1) & 0xffffffffL;
    return new long[] {first, first + size - 1};
  }
}
