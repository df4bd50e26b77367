package io.switchboard.protocol;

import io.switchboard.runtime.tls.PeerTls;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;

import javax.net.ssl.X509KeyManager;

/**
 * Signs the discovery records this node publishes with its cluster key ({@code cluster.tlsKeyPath}) and attaches
 * its certificate chain ({@code cluster.tlsCertPath}), so that peers can tell its records from those of a process
 * that merely joined Hazelcast (see {@link RecordSignature}). Thread-safe.
 */
public final class RecordSigner {

  private final PrivateKey key;
  private final JsonArray certs;
  private final String algorithm;

  private RecordSigner(PrivateKey key, List<X509Certificate> chain) throws GeneralSecurityException {
    this.key = key;
    this.algorithm = RecordSignature.algorithmFor(chain.get(0).getPublicKey());
    JsonArray encoded = new JsonArray();
    for (X509Certificate cert : chain) {
      encoded.add(Base64.getEncoder().encodeToString(cert.getEncoded()));
    }
    this.certs = encoded;
  }

  /** Reads the node's PEM key and certificate chain (blocking: call before the node's event loops run). */
  public static RecordSigner load(PeerTls tls) {
    try {
      Buffer keyPem = Buffer.buffer(Files.readAllBytes(Path.of(tls.keyPath())));
      Buffer certPem = Buffer.buffer(Files.readAllBytes(Path.of(tls.certPath())));
      // Vert.x reads PKCS#8 and PKCS#1 keys, RSA and EC, as its TLS does with the same files.
      PemKeyCertOptions pem = new PemKeyCertOptions().setKeyValue(keyPem).setCertValue(certPem);
      String alias = Collections.list(pem.loadKeyStore(null).aliases()).get(0);
      X509KeyManager keys = (X509KeyManager) pem.getKeyManagerFactory(null).getKeyManagers()[0];
      PrivateKey key = keys.getPrivateKey(alias);
      if (key == null) {
        throw new IllegalArgumentException("no private key in " + tls.keyPath());
      }
      List<X509Certificate> chain = new ArrayList<>();
      try (InputStream in = Files.newInputStream(Path.of(tls.certPath()))) {
        for (Certificate cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
          chain.add((X509Certificate) cert);
        }
      }
      if (chain.isEmpty()) {
        throw new IllegalArgumentException("no certificate in " + tls.certPath());
      }
      return new RecordSigner(key, chain);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read the cluster certificate or key: " + e.getMessage(), e);
    } catch (Exception e) {
      throw new IllegalArgumentException("cannot use " + tls.certPath() + " and " + tls.keyPath()
          + " to sign discovery records: " + e.getMessage(), e);
    }
  }

  /** A copy of {@code record} (a discovery record's JSON form) with {@code metadata.signature} set. */
  public JsonObject sign(JsonObject record, long nowMs) {
    try {
      Signature signature = Signature.getInstance(algorithm);
      signature.initSign(key);
      signature.update(RecordSignature.payload(record, nowMs));
      JsonObject signed = record.copy();
      JsonObject metadata = signed.getJsonObject("metadata");
      if (metadata == null) {
        metadata = new JsonObject();
        signed.put("metadata", metadata);
      }
      metadata.put(RecordSignature.FIELD, new JsonObject()
          .put(RecordSignature.CERTS, certs.copy())
          .put(RecordSignature.SIGNED_AT, nowMs)
          .put(RecordSignature.VALUE, Base64.getEncoder().encodeToString(signature.sign())));
      return signed;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("could not sign a discovery record with the cluster key: " + e.getMessage(), e);
    }
  }
}
