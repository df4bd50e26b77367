package io.switchboard.gateway.security;

import io.switchboard.runtime.config.OptionsJson;
import io.vertx.codegen.annotations.DataObject;
import io.vertx.codegen.json.annotations.JsonGen;
import io.vertx.core.json.JsonObject;

/**
 * HTTPS for the gateway's API ({@code gateway.tls.*}): a PEM certificate chain and its PEM private key (PKCS#8
 * or PKCS#1). Both set = the API speaks only HTTPS on {@code gateway.httpPort}; neither = plain HTTP.
 */
@DataObject
@JsonGen(publicConverter = false)
public class TlsOptions {

  private String certPath;
  private String keyPath;

  public TlsOptions() {
  }

  public TlsOptions(JsonObject json) {
    TlsOptionsConverter.fromJson(json, this);
  }

  public JsonObject toJson() {
    return OptionsJson.write(this, TlsOptionsConverter::toJson);
  }

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

  public String getCertPath() {
    return certPath;
  }

  public TlsOptions setCertPath(String certPath) {
    this.certPath = certPath;
    return this;
  }

  public String getKeyPath() {
    return keyPath;
  }

  public TlsOptions setKeyPath(String keyPath) {
    this.keyPath = keyPath;
    return this;
  }
}
