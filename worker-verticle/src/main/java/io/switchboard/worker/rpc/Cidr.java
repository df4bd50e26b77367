package io.switchboard.worker.rpc;

import java.util.ArrayList;
import java.util.List;

/** An IPv4 CIDR block, expanded to its addresses (bounded: a scan must stay small). */
final class Cidr {

  private Cidr() {
  }

  /** The addresses of {@code cidr}, e.g. "192.168.1.0/24"; refuses blocks larger than {@code maxAddresses}. */
  static List<String> parse(String cidr, int maxAddresses) {
    String[] parts = cidr.trim().split("/");
    if (parts.length != 2) {
      throw new IllegalArgumentException("'" + cidr + "' is not a CIDR block like 192.168.1.0/24");
    }
    String[] octets = parts[0].split("\\.");
    if (octets.length != 4) {
      throw new IllegalArgumentException("'" + cidr + "' is not an IPv4 CIDR block like 192.168.1.0/24");
    }
    long base = 0;
    int prefix;
    try {
      for (String octet : octets) {
        int value = Integer.parseInt(octet);
        if (value < 0 || value > 255) {
          throw new NumberFormatException();
        }
        base = base << 8 | value;
      }
      prefix = Integer.parseInt(parts[1]);
    } catch (NumberFormatException notNumbers) {
      throw new IllegalArgumentException("'" + cidr + "' is not an IPv4 CIDR block like 192.168.1.0/24");
    }
    if (prefix < 0 || prefix > 32) {
      throw new IllegalArgumentException("prefix /" + prefix + " must be between 0 and 32");
    }
    long size = 1L << (32 - prefix);
    if (size > maxAddresses) {
      throw new IllegalArgumentException("'" + cidr + "' holds " + size + " addresses; at most " + maxAddresses
          + " may be scanned (use a longer prefix)");
    }
    long first = base & ~(size - 1) & 0xffffffffL;
    List<String> addresses = new ArrayList<>((int) size);
    for (long address = first; address < first + size; address++) {
      addresses.add((address >> 24 & 255) + "." + (address >> 16 & 255) + "." + (address >> 8 & 255) + "."
          + (address & 255));
    }
    return addresses;
  }
}
