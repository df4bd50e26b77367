package io.switchboard.runtime.tls;

import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;

/**
 * TLS between nodes (the cluster's {@code cluster.tls*Path} PEM files): this node's certificate chain and key,
 * and the CA that signed every node's. Both ends show a certificate and accept only one the CA signed, so any
 * holder of such a certificate is a member and nobody else can talk to a node's event bus or gRPC plane.
 */
public record PeerTls(String certPath, String keyPath, String caPath) {

  public static final PeerTls NONE = new PeerTls(null, null, null);

  public boolean enabled() {
    return certPath != null && !certPath.isBlank();
  }

  /** Server side of a node-to-node connection: TLS, and the peer must present a certificate the CA signed. */
  public HttpServerOptions applyTo(HttpServerOptions server) {
    if (!enabled()) {
      return server;
    }
    return server.setSsl(true).setUseAlpn(true).setClientAuth(ClientAuth.REQUIRED)
        .setKeyCertOptions(keyCert()).setTrustOptions(trust());
  }

  /** Client side: presents this node's certificate, trusts only the cluster's CA (not the host name: see docs). */
  public HttpClientOptions applyTo(HttpClientOptions client) {
    if (!enabled()) {
      return client;
    }
    return client.setSsl(true).setUseAlpn(true).setVerifyHost(false)
        .setKeyCertOptions(keyCert()).setTrustOptions(trust());
  }

  private PemKeyCertOptions keyCert() {
    return new PemKeyCertOptions().setCertPath(certPath).setKeyPath(keyPath);
  }

  private PemTrustOptions trust() {
    return new PemTrustOptions().addCertPath(caPath);
  }
}
