package io.switchboard.worker.openai;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;

import java.net.URI;

/**
 * Where one OpenAI-compatible backend is and how to address it: host, port, base path, TLS, API key, and the
 * name errors and logs use for it ("vLLM at 10.0.0.5:8000"). Also the plain GETs the engine's monitors make.
 */
public final class BackendEndpoint {

  private final URI base;
  private final String apiKey;
  private final long requestTimeoutMs;
  private final RequestOptions chatStream;
  private final RequestOptions completionStream;
  private volatile String name;

  /**
   * @param base             scheme, host, port and base path, without {@code /v1}
   * @param apiKey           sent as a bearer token; null or empty for none
   * @param requestTimeoutMs bound of each monitoring GET
   */
  public BackendEndpoint(URI base, String apiKey, long requestTimeoutMs) {
    this.base = base;
    this.apiKey = apiKey == null || apiKey.isBlank() ? null : apiKey;
    this.requestTimeoutMs = requestTimeoutMs;
    this.name = "backend at " + hostPort();
    this.chatStream = streamRequest("/v1/chat/completions");
    this.completionStream = streamRequest("/v1/completions");
  }

  public String hostPort() {
    return base.getHost() + ":" + port();
  }

  public int port() {
    return base.getPort() > 0 ? base.getPort() : "https".equalsIgnoreCase(base.getScheme()) ? 443 : 80;
  }

  public boolean tls() {
    return "https".equalsIgnoreCase(base.getScheme());
  }

  /** How errors and logs name the backend; refined once its kind is known. */
  public String name() {
    return name;
  }

  public void kindLearned(BackendKind kind) {
    this.name = switch (kind) {
      case VLLM -> "vLLM";
      case SGLANG -> "SGLang";
      case TGI -> "TGI";
      case TRTLLM -> "trtllm-serve";
      case OLLAMA -> "Ollama";
      case LLAMACPP -> "llama-server";
      case OPENAI -> "backend";
    } + " at " + hostPort();
  }

  /** A request to {@code path} (e.g. {@code /v1/chat/completions}) under the base path, with the API key. */
  public RequestOptions request(HttpMethod method, String path) {
    String prefix = base.getRawPath() == null ? "" : base.getRawPath();
    RequestOptions options = new RequestOptions().setMethod(method).setHost(base.getHost()).setPort(port())
        .setSsl(tls()).setURI(prefix + path);
    if (apiKey != null) {
      options.putHeader("authorization", "Bearer " + apiKey);
    }
    return options;
  }

  /**
   * The POST of a streamed generation to {@code /v1/chat/completions} ({@code chat}) or {@code /v1/completions}:
   * built once, with its constant headers and the server's address, because a request built per generation
   * (options, header map, address, URI) was a measurable part of a proxied request's time. The HTTP client only
   * reads it; headers of one request go on that request.
   */
  public RequestOptions streamRequest(boolean chat) {
    return chat ? chatStream : completionStream;
  }

  private RequestOptions streamRequest(String path) {
    return request(HttpMethod.POST, path).setServer(SocketAddress.inetSocketAddress(port(), base.getHost()))
        .putHeader(HttpHeaders.CONTENT_TYPE, HttpHeaders.createOptimized("application/json"))
        .putHeader(HttpHeaders.ACCEPT, HttpHeaders.createOptimized("text/event-stream"));
  }

  /** GET {@code path}; fails with a message naming the status and the start of the body unless it answers 200. */
  public Future<Buffer> get(HttpClient client, String path) {
    return client.request(request(HttpMethod.GET, path).setTimeout(requestTimeoutMs))
        .compose(req -> req.send().compose(resp -> resp.body().compose(body -> resp.statusCode() == 200
            ? Future.succeededFuture(body)
            : Future.failedFuture("GET " + path + " answered HTTP " + resp.statusCode()
                + (body.length() == 0 ? "" : ": " + BackendErrors.excerpt(body))))));
  }
}
