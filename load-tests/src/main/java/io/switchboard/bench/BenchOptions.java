package io.switchboard.bench;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.LinkedHashMap;
import java.util.Map;

/** Command-line options and small statistics shared by the benchmarks. */
final class BenchOptions {

  private BenchOptions() {
  }

  /** Nearest-rank percentile of sorted values; -1 when there are none. */
  static long percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return -1;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
  }

  /** The URL, if it is http:// to a loopback address; otherwise a message saying why not. */
  static URI loopbackUrl(String text) {
    URI uri;
    try {
      uri = new URI(text);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("--url is not a URL: " + text);
    }
    if (!"http".equalsIgnoreCase(uri.getScheme())) {
      throw new IllegalArgumentException("--url must be http://, got '" + text + "'");
    }
    String host = uri.getHost();
    if (host == null) {
      throw new IllegalArgumentException("--url has no host: '" + text + "'");
    }
    String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    if (!bare.equals("127.0.0.1") && !bare.equalsIgnoreCase("localhost") && !bare.equals("::1")) {
      throw new IllegalArgumentException("refusing to send load to '" + host + "': this benchmark only targets "
          + "this machine (127.0.0.1, localhost or [::1])");
    }
    if (uri.getRawPath() == null || uri.getRawPath().isEmpty()) {
      throw new IllegalArgumentException("--url needs a path, e.g. http://127.0.0.1:8080/v1/chat/completions");
    }
    return uri;
  }

  /** --name value, --name=value, and -Dbench.name=value; the command line wins. */
  static Map<String, String> parse(String[] args, Map<String, String> defaults) {
    Map<String, String> options = new LinkedHashMap<>(defaults);
    for (String name : defaults.keySet()) {
      String property = System.getProperty("bench." + name);
      if (property != null) {
        options.put(name, property);
      }
    }
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (arg.equals("--help") || arg.equals("-h")) {
        options.put("help", "true");
        continue;
      }
      if (!arg.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument '" + arg + "'");
      }
      String name = arg.substring(2);
      String value;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      } else if (i + 1 < args.length) {
        value = args[++i];
      } else {
        throw new IllegalArgumentException("--" + name + " needs a value");
      }
      if (!defaults.containsKey(name)) {
        throw new IllegalArgumentException("unknown option --" + name + " (known: --"
            + String.join(", --", defaults.keySet()) + ")");
      }
      options.put(name, value);
    }
    return options;
  }

  static int positiveInt(Map<String, String> options, String name) {
    int value = nonNegativeInt(options, name);
    if (value < 1) {
      throw new IllegalArgumentException("--" + name + " must be >= 1, got " + value);
    }
    return value;
  }

  static int nonNegativeInt(Map<String, String> options, String name) {
    try {
      int value = Integer.parseInt(options.get(name).trim());
      if (value < 0) {
        throw new IllegalArgumentException("--" + name + " must be >= 0, got " + value);
      }
      return value;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " must be a whole number, got '" + options.get(name) + "'");
    }
  }

  static double positiveDouble(Map<String, String> options, String name) {
    try {
      double value = Double.parseDouble(options.get(name).trim());
      if (!(value > 0) || Double.isInfinite(value)) {
        throw new IllegalArgumentException("--" + name + " must be a number > 0, got " + options.get(name));
      }
      return value;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " must be a number, got '" + options.get(name) + "'");
    }
  }

  static String usage(String header, Map<String, String> defaults) {
    StringBuilder text = new StringBuilder(header).append('\n');
    defaults.forEach((name, value) -> text.append("  --").append(name).append(" (default ").append(value)
        .append(")\n"));
    return text.toString();
  }
}
