package io.switchboard.protocol;

import io.switchboard.runtime.tls.PeerTls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A cluster CA with node certificates (RSA and EC) and a stranger's CA, made with openssl as docs/security.md says. */
final class TestCertificates {

  static final Path DIR = Path.of("target", "test-certificates");

  private TestCertificates() {
  }

  private static boolean made;

  /** Makes them once per test run (fresh each run: they are valid for two days). */
  static synchronized Path make() throws Exception {
    if (made) {
      return DIR;
    }
    Files.createDirectories(DIR);
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days",
        "2", "-subj", "/CN=test-cluster-ca");
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "node.key", "-out", "node.csr", "-subj",
        "/CN=node-1");
    run("openssl", "x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "node.pem", "-days", "2");
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
        "ec-node.key", "-out", "ec-node.csr", "-subj", "/CN=node-ec");
    run("openssl", "x509", "-req", "-in", "ec-node.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "ec-node.pem", "-days", "2");
    // A stranger: its own CA, and a certificate from it that looks like a node's.
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rogue-ca.key", "-out", "rogue-ca.pem",
        "-days", "2", "-subj", "/CN=test-cluster-ca");
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "rogue.key", "-out", "rogue.csr", "-subj",
        "/CN=node-1");
    run("openssl", "x509", "-req", "-in", "rogue.csr", "-CA", "rogue-ca.pem", "-CAkey", "rogue-ca.key",
        "-CAcreateserial", "-out", "rogue.pem", "-days", "2");
    made = true;
    return DIR;
  }

  static PeerTls node() {
    return tls("node.pem", "node.key");
  }

  static PeerTls ecNode() {
    return tls("ec-node.pem", "ec-node.key");
  }

  static PeerTls rogue() {
    return tls("rogue.pem", "rogue.key");
  }

  private static PeerTls tls(String cert, String key) {
    return new PeerTls(DIR.resolve(cert).toString(), DIR.resolve(key).toString(), DIR.resolve("ca.pem").toString());
  }

  private static void run(String... command) throws Exception {
    Process process = new ProcessBuilder(List.of(command)).directory(DIR.toFile()).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
    }
  }
}
