package io.switchboard.protocol;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks a discovery record's {@link RecordSignature}: its certificate chain leads to the cluster's CA
 * ({@code cluster.tlsCaPath}) and its signature matches the record's content. Verdicts are remembered per exact
 * content and signature, and per certificate chain (a bounded number of each), so a record is verified when it
 * appears or changes, not each time it is read again, and a chain is validated once however many records carry it.
 * Thread-safe.
 */
public final class RecordVerifier {

  static final int REMEMBERED = 4096;
  private static final String VALID = "";

  private final Set<TrustAnchor> anchors;
  private final Map<String, String> verdicts = bounded();
  /** Per certificate chain: "" when it leads to the cluster's CA, else why not. */
  private final Map<String, String> chains = bounded();
  private int chainsValidated;

  private static Map<String, String> bounded() {
    return new LinkedHashMap<>(256, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
        return size() > REMEMBERED;
      }
    };
  }

  RecordVerifier(List<X509Certificate> authorities) {
    Set<TrustAnchor> set = new HashSet<>();
    for (X509Certificate ca : authorities) {
      set.add(new TrustAnchor(ca, null));
    }
    this.anchors = set;
  }

  /** Reads the cluster's CA certificates (PEM; blocking). */
  public static RecordVerifier load(String caPath) {
    List<X509Certificate> authorities = new ArrayList<>();
    try (InputStream in = Files.newInputStream(Path.of(caPath))) {
      for (Certificate cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        authorities.add((X509Certificate) cert);
      }
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot read the cluster CA " + caPath + ": " + e.getMessage(), e);
    }
    if (authorities.isEmpty()) {
      throw new IllegalArgumentException("no certificate in the cluster CA file " + caPath);
    }
    return new RecordVerifier(authorities);
  }

  /** Null when the record is signed by a holder of a certificate the cluster's CA issued; else why not. */
  public String check(JsonObject record) {
    if (!(record.getValue("metadata") instanceof JsonObject metadata)) {
      return "it has no metadata, so no signature";
    }
    if (!(metadata.getValue(RecordSignature.FIELD) instanceof JsonObject signature)) {
      return "it is not signed, and every node of this cluster signs its records (cluster TLS is on): it was not "
          + "published by a node holding a certificate of the cluster's CA";
    }
    if (!(signature.getValue(RecordSignature.SIGNED_AT) instanceof Number signedAt)
        || !(signature.getValue(RecordSignature.VALUE) instanceof String value)
        || !(signature.getValue(RecordSignature.CERTS) instanceof JsonArray certs) || certs.isEmpty()) {
      return "its signature is malformed (it needs certs, signedAtMs and value)";
    }
    byte[] payload;
    try {
      payload = RecordSignature.payload(record, signedAt.longValue());
    } catch (IllegalArgumentException notJson) {
      return "its content cannot be put in canonical form: " + notJson.getMessage();
    }
    byte[] chainBytes = CanonicalJson.bytes(certs);
    String key = digest(payload, value.getBytes(java.nio.charset.StandardCharsets.UTF_8), chainBytes);
    synchronized (verdicts) {
      String known = verdicts.get(key);
      if (known != null) {
        return known.isEmpty() ? null : known;
      }
    }
    String verdict = verify(payload, value, certs, digest(chainBytes));
    synchronized (verdicts) {
      verdicts.put(key, verdict == null ? VALID : verdict);
    }
    return verdict;
  }

  private String verify(byte[] payload, String value, JsonArray certs, String chainKey) {
    String knownChain;
    synchronized (chains) {
      knownChain = chains.get(chainKey);
    }
    if (knownChain != null && !knownChain.isEmpty()) {
      return knownChain;
    }
    List<X509Certificate> chain = new ArrayList<>();
    try {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      for (Object cert : certs) {
        if (!(cert instanceof String text)) {
          return "its signature's certificate list holds a " + (cert == null ? "null" : "non-text") + " entry";
        }
        chain.add((X509Certificate) factory.generateCertificate(new java.io.ByteArrayInputStream(
            Base64.getDecoder().decode(text))));
      }
    } catch (GeneralSecurityException | IllegalArgumentException bad) {
      return "its certificate cannot be read: " + bad.getMessage();
    }
    if (knownChain == null) {
      String chainVerdict = validate(chain);
      synchronized (chains) {
        chains.put(chainKey, chainVerdict == null ? VALID : chainVerdict);
      }
      if (chainVerdict != null) {
        return chainVerdict;
      }
    }
    try {
      Signature signature = Signature.getInstance(RecordSignature.algorithmFor(chain.get(0).getPublicKey()));
      signature.initVerify(chain.get(0).getPublicKey());
      signature.update(payload);
      if (!signature.verify(Base64.getDecoder().decode(value))) {
        return "its signature does not match its content: it was changed after it was signed";
      }
    } catch (GeneralSecurityException | IllegalArgumentException bad) {
      return "its signature cannot be checked: " + bad.getMessage();
    }
    return null;
  }

  private String validate(List<X509Certificate> chain) {
    synchronized (chains) {
      chainsValidated++;
    }
    try {
      PKIXParameters parameters = new PKIXParameters(anchors);
      parameters.setRevocationEnabled(false);
      CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509")
          .generateCertPath(chain), parameters);
      return null;
    } catch (GeneralSecurityException notOurs) {
      return "its certificate (" + chain.get(0).getSubjectX500Principal().getName() + ") was not issued by the "
          + "cluster's CA (cluster.tlsCaPath), or is not valid now: " + notOurs.getMessage();
    }
  }

  /** How many certificate chains were validated (each once while remembered). */
  int chainsValidated() {
    synchronized (chains) {
      return chainsValidated;
    }
  }

  private static String digest(byte[]... parts) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (byte[] part : parts) {
        sha.update(part);
        sha.update((byte) 0);
      }
      return Base64.getEncoder().encodeToString(sha.digest());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
