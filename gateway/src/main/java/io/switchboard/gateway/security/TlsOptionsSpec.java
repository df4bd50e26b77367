package io.switchboard.gateway.security;

import io.switchboard.runtime.config.GenerateOptions;

/**
 * HTTPS for the gateway's API ({@code gateway.tls.*}): a PEM certificate chain and its PEM private key (PKCS#8
 * or PKCS#1). Both set = the API speaks only HTTPS on {@code gateway.httpPort}; neither = plain HTTP.
 */
@GenerateOptions
public abstract class TlsOptionsSpec {

  String certPath;
  String keyPath;

  public boolean enabled() {
    return certPath != null && !certPath.isBlank();
  }

  public void validate(String path) {
    boolean cert = certPath != null && !certPath.isBlank();
    boolean key = keyPath != null && !keyPath.isBlank();
    if (cert != key) {
      throw new IllegalArgumentException(path + ".certPath and " + path + ".keyPath go together: set both (PEM files) "
          + "for HTTPS, or neither for plain HTTP");
    }
    if (cert) {
      for (String file : new String[] {certPath, keyPath}) {
        if (!java.nio.file.Files.isReadable(java.nio.file.Path.of(file))) {
          throw new IllegalArgumentException(path + ": cannot read PEM file '" + file + "' (missing, or not readable "
              + "by this user)");
        }
      }
    }
  }
}
