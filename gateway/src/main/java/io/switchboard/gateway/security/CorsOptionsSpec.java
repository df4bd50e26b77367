package io.switchboard.gateway.security;

import io.switchboard.runtime.config.GenerateOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Which web pages of other origins may call the API from a browser ({@code gateway.cors.*}). None by default:
 * a browser request to {@code /v1} from another origin gets 403, so a page a user happens to visit cannot use an
 * open gateway. The operator endpoints ({@code /admin}, {@code /dashboard}, {@code /metrics}) answer only their
 * own origin whatever this says.
 */
@GenerateOptions
public abstract class CorsOptionsSpec {

  /** Origins ({@code scheme://host[:port]}) whose pages may call /v1 from a browser; {@code *} = any. */
  public static final List<String> DEFAULT_ALLOWED_ORIGINS = List.of();
  /** Request headers those pages may send; empty = whatever a preflight asks for (the origin is trusted). */
  public static final List<String> DEFAULT_ALLOWED_HEADERS = List.of();

  private static final Pattern ORIGIN = Pattern.compile("(?i)https?://[a-z0-9.\\-]+(:\\d{1,5})?|https?://\\[[0-9a-f:.]+\\](:\\d{1,5})?");
  private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

  List<String> allowedOrigins = new ArrayList<>(DEFAULT_ALLOWED_ORIGINS);
  List<String> allowedHeaders = new ArrayList<>(DEFAULT_ALLOWED_HEADERS);

  public void validate(String path) {
    for (String origin : allowedOrigins) {
      if (!"*".equals(origin) && !ORIGIN.matcher(origin).matches()) {
        throw new IllegalArgumentException(path + ".allowedOrigins entries must be origins as browsers send them, "
            + "scheme://host[:port] without a path (e.g. https://app.example.com or http://localhost:3000), or *, "
            + "got '" + origin + "'");
      }
    }
    if (allowedOrigins.contains("*") && allowedOrigins.size() > 1) {
      throw new IllegalArgumentException(path + ".allowedOrigins: '*' (any origin) cannot be listed with other "
          + "origins, got " + allowedOrigins);
    }
    for (String header : allowedHeaders) {
      if (!HEADER_NAME.matcher(header).matches()) {
        throw new IllegalArgumentException(path + ".allowedHeaders entries must be HTTP header names, got '"
            + header + "'");
      }
    }
  }

  /** Whether some origin may call the API from a browser. */
  public boolean enabled() {
    return !allowedOrigins.isEmpty();
  }

  public CorsOptions setAllowedOrigins(List<String> allowedOrigins) {
    this.allowedOrigins = trimmed(allowedOrigins);
    return (CorsOptions) this;
  }

  public CorsOptions setAllowedHeaders(List<String> allowedHeaders) {
    this.allowedHeaders = trimmed(allowedHeaders);
    return (CorsOptions) this;
  }

  /** Entries as given, without the spaces a YAML list may leave around them. */
  private static List<String> trimmed(List<String> values) {
    return new ArrayList<>(values.stream().map(String::trim).toList());
  }
}
