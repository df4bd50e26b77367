package io.switchboard.gateway.admin;

import io.switchboard.gateway.http.ApiError;
import io.switchboard.gateway.http.ErrorResponder;
import io.switchboard.gateway.security.ApiKeys;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

import java.security.MessageDigest;
import java.util.function.BooleanSupplier;

/**
 * Guards {@code /admin}, {@code /dashboard} and {@code /metrics} with gateway.adminKey when one is set:
 * {@code Authorization: Bearer KEY}, or {@code ?admin_key=KEY} for a browser opening the dashboard (an
 * EventSource cannot send headers). Only the key's SHA-256 is kept (the setting may itself be
 * {@code sha256:<hex>}); hashes are compared in constant time. With no admin key they are open only while the API
 * is open too: a gateway with API keys but no admin key refuses them, so setting client keys never leaves the
 * operator's endpoints exposed.
 */
public final class AdminAuth implements Handler<RoutingContext> {

  private final byte[] keyHash;
  private final BooleanSupplier apiKeysSet;

  /**
   * @param adminKey   null for no admin key
   * @param apiKeysSet whether the gateway has API keys now (they may be reloaded)
   */
  public AdminAuth(String adminKey, BooleanSupplier apiKeysSet) {
    this.keyHash = adminKey == null ? null : ApiKeys.hashOf(adminKey, "gateway.adminKey");
    this.apiKeysSet = apiKeysSet;
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (keyHash == null) {
      if (!apiKeysSet.getAsBoolean()) {
        ctx.next();
        return;
      }
      ErrorResponder.send(ctx, new ApiError(401, "authentication_error", "admin_key_not_set", null,
          "This gateway has API keys but no admin key, so its operator endpoints (/admin, /dashboard, /metrics) are "
              + "closed. Set gateway.adminKey (SWITCHBOARD_GATEWAY_ADMIN_KEY) to use them."));
      return;
    }
    String header = ctx.request().getHeader("authorization");
    String given = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim()
        : ctx.request().getParam("admin_key");
    if (given != null && MessageDigest.isEqual(keyHash, ApiKeys.sha256(given))) {
      ctx.next();
      return;
    }
    ErrorResponder.send(ctx, new ApiError(401, "authentication_error", "invalid_admin_key", null,
        given == null ? "This endpoint needs the gateway's admin key: send 'Authorization: Bearer <key>' (or "
            + "?admin_key=<key> in a browser). The key is gateway.adminKey (SWITCHBOARD_GATEWAY_ADMIN_KEY)."
            : "The admin key given is not this gateway's admin key (gateway.adminKey)."));
  }
}
