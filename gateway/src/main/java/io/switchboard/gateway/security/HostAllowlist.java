package io.switchboard.gateway.security;

import io.netty.util.NetUtil;
import io.vertx.core.net.HostAndPort;

import java.net.InetAddress;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which host names a request may be addressed to ({@code Host}), against DNS rebinding: a web page whose own name
 * an attacker points at 127.0.0.1 reaches a loopback gateway from the user's browser, but its requests still carry
 * the attacker's name. A gateway listening on a loopback address answers only loopback names ({@code localhost},
 * 127.0.0.0/8, {@code [::1]}, any port) and the names in {@code gateway.allowedHosts}; one listening elsewhere
 * answers any name unless that list is set. {@code *} in the list allows any name.
 */
public final class HostAllowlist {

  private final boolean anyHost;
  private final boolean loopbackListener;
  private final Set<String> allowed = new HashSet<>();

  /**
   * @param listenHost   the address the API listens on (gateway.host)
   * @param allowedHosts gateway.allowedHosts: names without ports, or {@code *}
   */
  public HostAllowlist(String listenHost, List<String> allowedHosts) {
    this.loopbackListener = isLoopback(listenHost);
    for (String host : allowedHosts) {
      allowed.add(withoutBrackets(host.toLowerCase(Locale.ROOT)));
    }
    this.anyHost = allowed.contains("*") || (!loopbackListener && allowed.isEmpty());
  }

  /** Whether a request addressed to {@code authority} is answered; null (no Host: HTTP/1.0) is. */
  public boolean allows(HostAndPort authority) {
    if (anyHost || authority == null) {
      return true;
    }
    String host = authority.host();
    if ("127.0.0.1".equals(host) || "localhost".equals(host)) {
      return true;
    }
    String name = withoutBrackets(host.toLowerCase(Locale.ROOT));
    return isLoopback(name) || allowed.contains(name) || (name.endsWith(".") && allowed.contains(
        name.substring(0, name.length() - 1)));
  }

  /** Whether the API listens on a loopback address only. */
  public boolean loopbackListener() {
    return loopbackListener;
  }

  /** A loopback name or address literal; decided without a DNS lookup. */
  static boolean isLoopback(String host) {
    String name = withoutBrackets(host.toLowerCase(Locale.ROOT));
    if ("localhost".equals(name) || "localhost.".equals(name)) {
      return true;
    }
    if (!NetUtil.isValidIpV4Address(name) && !NetUtil.isValidIpV6Address(name)) {
      return false;
    }
    InetAddress address = NetUtil.createInetAddressFromIpAddressString(name);
    return address != null && address.isLoopbackAddress();
  }

  private static String withoutBrackets(String host) {
    return host.length() > 1 && host.charAt(0) == '[' && host.charAt(host.length() - 1) == ']'
        ? host.substring(1, host.length() - 1) : host;
  }
}
