package io.switchboard.gateway.http;

import io.switchboard.runtime.ids.RandomIds;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;

import java.util.regex.Pattern;

/** Takes the client's {@code x-request-id} when it is sane, else makes one. */
public final class RequestIds {

  public static final String HEADER = "x-request-id";
  /** The same, encoded once for the response header of every request. */
  public static final CharSequence HEADER_NAME = HttpHeaders.createOptimized(HEADER);
  private static final Pattern SANE = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

  private RequestIds() {
  }

  public static String of(HttpServerRequest request) {
    String given = request.getHeader(HEADER);
    if (given != null && SANE.matcher(given).matches()) {
      return given;
    }
    return RandomIds.next();
  }
}
