package io.switchboard.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An npm package directory of the test tree (a package.json and its committed package-lock.json), installed from the
 * npm registry by {@code npm ci --ignore-scripts} into ~/.cache/switchboard/CACHE_NAME/HASH (HASH of package.json,
 * the lock and the install scripts named below), and reused while they do not change. Packages' install scripts do
 * not run; a package that needs one names it in {@code vettedScripts}, read beforehand and run with {@code node}
 * after {@code npm ci} (it must work offline: the npm registry is the only download).
 */
final class NpmPackages {

  static final Path CACHE = Path.of(System.getProperty("user.home"), ".cache", "switchboard");
  private static final String INSTALLED = ".switchboard-installed";
  private static final Map<Path, Path> prepared = new HashMap<>();

  private NpmPackages() {
  }

  /**
   * Installs {@code source}'s lock once (a no-op while the cached copy matches) and returns the installed directory,
   * which holds node_modules.
   *
   * @param what          the suite's name, for messages and the npm log target/it-logs/WHAT-npm-ci.log
   * @param vettedScripts paths under node_modules of install scripts to run with node after npm ci, in order
   */
  static synchronized Path install(Path source, String cacheName, String what, List<String> vettedScripts)
      throws Exception {
    Path done = prepared.get(source);
    if (done != null) {
      return done;
    }
    String nodeVersion = tool(what, "node", "--version");
    String npmVersion = tool(what, "npm", "--version");
    int major = Integer.parseInt(nodeVersion.replaceFirst("^v", "").split("\\.")[0]);
    assertThat(major).as("%s needs Node.js 20 or newer; found %s", what, nodeVersion).isGreaterThanOrEqualTo(20);

    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    sha.update(Files.readAllBytes(source.resolve("package.json")));
    sha.update(Files.readAllBytes(source.resolve("package-lock.json")));
    if (!vettedScripts.isEmpty()) {
      sha.update(String.join("\n", vettedScripts).getBytes(StandardCharsets.UTF_8));
    }
    String hash = HexFormat.of().formatHex(sha.digest()).substring(0, 16);
    Path installed = CACHE.resolve(cacheName).resolve(hash);
    if (!Files.exists(installed.resolve(INSTALLED))) {
      npmCi(source, installed, what, vettedScripts, nodeVersion, npmVersion);
    }
    prepared.put(source, installed);
    return installed;
  }

  private static void npmCi(Path source, Path installed, String what, List<String> vettedScripts, String nodeVersion,
                            String npmVersion) throws Exception {
    Path staging = installed.resolveSibling(installed.getFileName() + ".tmp-" + ProcessHandle.current().pid());
    deleteTree(staging);
    Files.createDirectories(staging);
    Files.copy(source.resolve("package.json"), staging.resolve("package.json"));
    Files.copy(source.resolve("package-lock.json"), staging.resolve("package-lock.json"));
    Path log = Files.createDirectories(Path.of("target", "it-logs")).resolve(what + "-npm-ci.log");
    // --ignore-scripts: no package's install script runs (the vetted ones below do); the registry is npm's (the lock
    // names no other). --include=optional: platform binaries come as optional dependencies; npm picks this
    // machine's by each package's os/cpu/libc.
    run(what, log, staging, 10, List.of("npm", "ci", "--cache", CACHE.resolve("npm").toString(), "--no-audit",
        "--no-fund", "--ignore-scripts", "--include=optional", "--loglevel", "warn"), nodeVersion, npmVersion);
    for (String script : vettedScripts) {
      run(what, log, staging, 2, List.of("node", "node_modules/" + script), nodeVersion, npmVersion);
    }
    Files.writeString(staging.resolve(INSTALLED), "npm ci, node " + nodeVersion + ", npm " + npmVersion
        + (vettedScripts.isEmpty() ? "" : ", then node " + String.join(", ", vettedScripts)) + "\n");
    Files.writeString(staging.resolve("node_modules").resolve(INSTALLED), "see ../" + INSTALLED + "\n");
    try {
      Files.move(staging, installed, StandardCopyOption.ATOMIC_MOVE);
    } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException | DirectoryNotEmptyException raced) {
      // Another build installed the same lock meanwhile: use its copy.
      deleteTree(staging);
      assertThat(installed.resolve(INSTALLED)).exists();
    }
  }

  /** Runs one install step in {@code dir}, appending its output to {@code log}; fails with the log's text. */
  private static void run(String what, Path log, Path dir, int minutes, List<String> command, String nodeVersion,
                          String npmVersion) throws Exception {
    Files.writeString(log, "$ " + String.join(" ", command) + "\n", StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
    Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    boolean done = process.waitFor(minutes, TimeUnit.MINUTES);
    if (!done) {
      process.destroyForcibly().waitFor();
    }
    assertThat(done && process.exitValue() == 0).as("%s: `%s` (node %s, npm %s) failed; see %s:%n%s", what,
        String.join(" ", command), nodeVersion, npmVersion, log, Files.readString(log)).isTrue();
  }

  /** The first line {@code NAME ARG} prints; a clear failure where the tool is missing. */
  static String tool(String what, String name, String arg) throws Exception {
    try {
      Process process = new ProcessBuilder(name, arg).redirectErrorStream(true).start();
      String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      assertThat(process.waitFor(60, TimeUnit.SECONDS) && process.exitValue() == 0)
          .as("`%s %s` failed: %s", name, arg, out).isTrue();
      return out.lines().findFirst().orElse("");
    } catch (IOException missing) {
      throw new AssertionError(what + " runs npm packages and needs `" + name + "` on the PATH: install Node.js 20+ "
          + "and npm (apt-get install nodejs npm; tools/test-all does).", missing);
    }
  }

  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      List<Path> all = new ArrayList<>(paths.sorted(Comparator.reverseOrder()).toList());
      for (Path path : all) {
        Files.delete(path);
      }
    }
  }
}
