package io.switchboard.gateway.security;

import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.switchboard.gateway.http.ApiError;
import io.switchboard.gateway.http.ClientText;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;

/**
 * Answers a request the HTTP decoder could not read (a request line or head over the limits, broken framing,
 * bad header syntax) with OpenAI's error shape instead of an empty status, then the connection closes.
 */
public final class InvalidRequestResponder implements Handler<HttpServerRequest> {

  private final LimitOptions limits;
  private final HostAllowlist hosts;
  private final String listenHost;

  /** @param listenHost the address the API listens on, named when a request's Host is refused */
  public InvalidRequestResponder(LimitOptions limits, HostAllowlist hosts, String listenHost) {
    this.limits = limits;
    this.hosts = hosts;
    this.listenHost = listenHost;
  }

  /**
   * Wraps the router: an HTTP/1.1 request without a Host header is answered here (the router would fail it as an
   * internal error), and so is one addressed to a host this gateway does not answer for (DNS rebinding).
   */
  public Handler<HttpServerRequest> checkingHost(Handler<HttpServerRequest> next) {
    return request -> {
      if (request.version() == HttpVersion.HTTP_1_1 && request.authority() == null) {
        send(request, new ApiError(400, "invalid_request_error", "missing_host", null,
            "HTTP/1.1 requests need a Host header."));
        return;
      }
      if (!hosts.allows(request.authority())) {
        send(request, hostNotAllowed(request));
        return;
      }
      next.handle(request);
    };
  }

  private ApiError hostNotAllowed(HttpServerRequest request) {
    String host = ClientText.shown(request.authority().host());
    return new ApiError(421, "invalid_request_error", "host_not_allowed", null, hosts.loopbackListener()
        ? "This gateway listens on " + listenHost + " and answers only requests addressed to a loopback name "
            + "(localhost, 127.0.0.1, [::1]), not to '" + host + "': a web page can reach a loopback service through "
            + "DNS rebinding, and its requests carry its own name. If clients reach this gateway by that name (a "
            + "reverse proxy that keeps the Host header), add it to gateway.allowedHosts "
            + "(SWITCHBOARD_GATEWAY_ALLOWED_HOSTS)."
        : "This gateway answers only requests addressed to the names in gateway.allowedHosts or a loopback name, not "
            + "to '" + host + "'. Add the name to gateway.allowedHosts (SWITCHBOARD_GATEWAY_ALLOWED_HOSTS) if clients "
            + "use it.");
  }

  @Override
  public void handle(HttpServerRequest request) {
    DecoderResult result = request.decoderResult();
    Throwable cause = result == null ? null : result.cause();
    String reason = cause == null ? "" : String.valueOf(cause.getMessage());
    ApiError error;
    if (cause instanceof TooLongFrameException && reason.contains("line")) {
      error = new ApiError(414, "invalid_request_error", "uri_too_long", null,
          "The request line is longer than this gateway accepts (" + limits.getMaxUrlBytes()
              + " bytes, gateway.limits.maxUrlBytes). Send parameters in the JSON body.");
    } else if (cause instanceof TooLongFrameException) {
      error = new ApiError(431, "invalid_request_error", "headers_too_large", null,
          "The request headers are larger than this gateway accepts (" + limits.getMaxHeaderBytes()
              + " bytes in all, gateway.limits.maxHeaderBytes). Send fewer or shorter headers.");
    } else {
      error = new ApiError(400, "invalid_request_error", "malformed_http", null,
          "The request is not valid HTTP/1.1" + (reason.isEmpty() ? "" : " (" + ClientText.shown(reason) + ")") + ".");
    }
    send(request, error);
  }

  private static void send(HttpServerRequest request, ApiError error) {
    request.response().setStatusCode(error.status())
        .putHeader("content-type", "application/json")
        .putHeader("connection", "close")
        .end(error.toJson().toBuffer());
  }
}
