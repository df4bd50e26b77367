package io.switchboard.gateway.security;

import io.switchboard.gateway.http.ApiError;
import io.switchboard.gateway.http.ClientText;
import io.switchboard.gateway.http.ErrorResponder;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.CorsHandler;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Keeps web pages of other origins away from the API and the operator endpoints: a browser marks its requests
 * with {@code Origin} (and {@code Sec-Fetch-Site}), which a page cannot forge. Such a request from an origin that is
 * neither this gateway's own nor allowed ({@code gateway.cors.allowedOrigins}, API only) gets 403, before it is
 * authenticated or served, so a page a user visits cannot make the user's browser use an open gateway, even
 * with a "simple" cross-site POST that needs no preflight. Allowed origins get CORS through vertx-web's
 * {@link CorsHandler} (preflights answered, the response readable). Clients that are not browsers (the OpenAI
 * SDKs, curl) send no {@code Origin} and pass.
 */
public final class CrossOriginGuard implements Handler<RoutingContext> {

  /** Response headers a browser page may read: the request id, the worker and model, rate limits, when to retry. */
  private static final Set<String> EXPOSED = Set.of("x-request-id", "x-switchboard-worker", "x-switchboard-model",
      "retry-after",
      "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests",
      "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens");

  /** Whether this guards the API (where origins may be allowed), not the operator endpoints. */
  private final boolean api;
  private final boolean anyOrigin;
  private final Set<String> allowedOrigins = new HashSet<>();
  private final CorsHandler cors;

  private CrossOriginGuard(CorsOptions options) {
    this.api = options != null;
    this.anyOrigin = options != null && options.getAllowedOrigins().contains("*");
    if (options != null) {
      for (String origin : options.getAllowedOrigins()) {
        allowedOrigins.add(normalised(origin));
      }
    }
    if (options == null || !options.enabled()) {
      cors = null;
      return;
    }
    cors = CorsHandler.create()
        .addOrigins(options.getAllowedOrigins())
        .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.OPTIONS))
        .exposedHeaders(EXPOSED)
        .maxAgeSeconds(600)
        // A page the operator allowed may be public while the gateway is on a private network (Chrome asks).
        .allowPrivateNetwork(true);
    if (!options.getAllowedHeaders().isEmpty()) {
      cors.allowedHeaders(new HashSet<>(options.getAllowedHeaders()));
    }
  }

  /** For {@code /v1}: pages of the origins in {@code options} may call it from a browser. */
  public static CrossOriginGuard forApi(CorsOptions options) {
    return new CrossOriginGuard(options);
  }

  /** For the operator endpoints: only pages of the gateway's own origin (the dashboard). */
  public static CrossOriginGuard sameOriginOnly() {
    return new CrossOriginGuard(null);
  }

  @Override
  public void handle(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    String origin = request.getHeader("origin");
    if (origin == null) {
      String site = request.getHeader("sec-fetch-site");
      boolean crossSite = "cross-site".equalsIgnoreCase(site) || "same-site".equalsIgnoreCase(site);
      // A browser that sent no Origin on a request that can change something is an old one or a form; a link
      // followed (GET) changes nothing and may open the dashboard.
      if (crossSite && request.method() != HttpMethod.GET && request.method() != HttpMethod.HEAD) {
        refuse(ctx, "another site (Sec-Fetch-Site: " + ClientText.shown(site) + ")");
        return;
      }
      if (cors != null) {
        cors.handle(ctx); // not a CORS request: it only adds Vary: Origin, for caches
      } else {
        ctx.next();
      }
      return;
    }
    if (sameOrigin(origin, request)) {
      ctx.next();
      return;
    }
    if (cors != null && (anyOrigin || allowedOrigins.contains(normalised(origin)))) {
      cors.handle(ctx);
      return;
    }
    refuse(ctx, "the web page at " + ClientText.shown(origin));
  }

  private void refuse(RoutingContext ctx, String who) {
    ErrorResponder.send(ctx, new ApiError(403, "invalid_request_error", "origin_not_allowed", null,
        "This request came from " + who + ", which may not call this gateway from a browser" + (api
            ? ". To let a web page call the API, add its origin (scheme://host:port) to gateway.cors.allowedOrigins "
            + "(SWITCHBOARD_GATEWAY_CORS_ALLOWED_ORIGINS); programs that are not browsers send no Origin header "
            + "and are not affected."
            : ": the operator endpoints (/admin, /dashboard, /metrics) answer only pages of the gateway's own "
            + "origin.")));
  }

  /** The page is the gateway's own: its origin names the host and port the request was addressed to. */
  private static boolean sameOrigin(String origin, HttpServerRequest request) {
    if (request.authority() == null) {
      return false;
    }
    String authority = request.authority().port() < 0 ? request.authority().host()
        : request.authority().host() + ":" + request.authority().port();
    int scheme = origin.indexOf("://");
    if (scheme < 0) {
      return false;
    }
    String originAuthority = origin.substring(scheme + 3);
    if (originAuthority.equalsIgnoreCase(authority)) {
      return true;
    }
    // Browsers leave the default port out of Origin; a client may still put it in Host.
    String defaultPort = origin.regionMatches(true, 0, "https", 0, 5) ? ":443" : ":80";
    return (originAuthority + defaultPort).equalsIgnoreCase(authority);
  }

  /** Origins compare without case and without their scheme's default port. */
  private static String normalised(String origin) {
    String lower = origin.toLowerCase(Locale.ROOT);
    if (lower.startsWith("http://") && lower.endsWith(":80")) {
      return lower.substring(0, lower.length() - 3);
    }
    if (lower.startsWith("https://") && lower.endsWith(":443")) {
      return lower.substring(0, lower.length() - 4);
    }
    return lower;
  }
}
