package io.switchboard.worker.rpc;

import io.switchboard.runtime.config.GenerateOptions;
import io.switchboard.runtime.config.Range;

import java.util.ArrayList;
import java.util.List;

/**
 * Where a llama.cpp worker looks for rpc-servers besides the cluster's announcements, and how often it checks
 * them. A scan is off unless configured, and bounded: one CIDR of at most {@link #MAX_SCAN_ADDRESSES}
 * addresses, one port.
 */
@GenerateOptions
public abstract class RpcPoolOptionsSpec {

  public static final int MAX_SCAN_ADDRESSES = 1024;

  List<String> endpoints = new ArrayList<>();
  String scanCidr;
  @Range(min = 1, max = 65535)
  int scanPort = RpcAgentOptions.DEFAULT_PORT;
  @Range(min = 100, max = 2000)
  long checkIntervalMs = 1000;
  long rejectedRecheckMs = 10_000;
  long scanIntervalMs = 30_000;

  /** Fails with a message naming the key under {@code path}. Entries' hosts and ports are the probe's job. */
  public void validate(String path) {
    for (int i = 0; i < endpoints.size(); i++) {
      if (!endpoints.get(i).matches("[^\\s:]+:\\d{1,5}")) {
        throw new IllegalArgumentException(path + ".endpoints[" + i + "] must be host:port, got '" + endpoints.get(i)
            + "'");
      }
    }
    if (scanCidr != null) {
      try {
        Cidr.parse(scanCidr, MAX_SCAN_ADDRESSES);
      } catch (IllegalArgumentException bad) {
        throw new IllegalArgumentException(path + ".scanCidr: " + bad.getMessage());
      }
    }
      // A dead backend must leave the pool within 5 s: connect timeout (2 s) plus one interval.
    if (rejectedRecheckMs < checkIntervalMs || scanIntervalMs < 1000) {
      throw new IllegalArgumentException(path + ".rejectedRecheckMs must be >= checkIntervalMs and " + path
          + ".scanIntervalMs >= 1000");
    }
  }
}
