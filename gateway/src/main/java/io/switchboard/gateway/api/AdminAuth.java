package io.switchboard.gateway.api;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Guards {@code /admin} and {@code /dashboard} with gateway.adminKey when one is set: {@code Authorization:
 * Bearer KEY}, or {@code ?admin_key=KEY} for a browser opening the dashboard (an EventSource cannot send
 * headers). Compared in constant time. With no key set they are open (bind the gateway to loopback or a private
 * network then).
 */
public final class AdminAuth implements Handler<RoutingContext> {

  private final byte[] key;

  /** @param adminKey null for open access */
  public AdminAuth(String adminKey) {
    this.key = adminKey == null ? null : adminKey.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (key == null) {
      ctx.next();
      return;
    }
    String header = ctx.request().getHeader("authorization");
    String given = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim()
        : ctx.request().getParam("admin_key");
    if (given != null && MessageDigest.isEqual(key, given.getBytes(StandardCharsets.UTF_8))) {
      ctx.next();
      return;
    }
    ErrorResponder.send(ctx, new ApiError(401, "authentication_error", "invalid_admin_key", null,
        given == null ? "This endpoint needs the gateway's admin key: send 'Authorization: Bearer <key>' (or "
            + "?admin_key=<key> in a browser). The key is gateway.adminKey (SWITCHBOARD_GATEWAY_ADMIN_KEY)."
            : "The admin key given is not this gateway's admin key (gateway.adminKey)."));
  }
}
