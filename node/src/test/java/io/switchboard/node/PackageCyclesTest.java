package io.switchboard.node;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keeps the packages of every module free of cycles: each package under {@code io.switchboard} is one slice, and no
 * slice may reach itself again through the others. A failure names the cycle slice by slice, with the classes and
 * members that make each step, so whoever breaks it sees which dependency to turn around.
 *
 * <p>It lives in the node module because the node depends on every module its jar carries (runtime, protocol,
 * worker-verticle, gateway), so all their main classes are on its test classpath. Test classes (the modules' test
 * directories and their {@code -tests.jar}s) are left out: a test may reach across packages. The benchmarks
 * (load-tests) are built after the node and are not in its jar, so they are outside the rule.
 * {@code archunit.properties} keeps a failure's report short enough to read: the first cycles, a few dependencies
 * of each step.
 */
class PackageCyclesTest {

  /** The top-level package of each module whose main classes the rule must see; an empty one means a wrong classpath. */
  private static final Set<String> MODULE_PACKAGES = Set.of(
      "io.switchboard.runtime",
      "io.switchboard.protocol",
      "io.switchboard.worker",
      "io.switchboard.gateway",
      "io.switchboard.node");

  private static final Pattern TEST_JAR = Pattern.compile(".*-tests\\.jar.*");

  private static final JavaClasses MAIN_CLASSES = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .withImportOption(location -> !location.matches(TEST_JAR))
      .importPackages("io.switchboard");

  @Test
  void everyModulesMainClassesAreImported() {
    Set<String> topLevel = new TreeSet<>();
    for (JavaClass type : MAIN_CLASSES) {
      String[] parts = type.getPackageName().split("\\.");
      if (parts.length >= 3) {
        topLevel.add(parts[0] + "." + parts[1] + "." + parts[2]);
      }
    }
    assertThat(topLevel).as("top-level packages seen on the node's test classpath").containsAll(MODULE_PACKAGES);
  }

  @Test
  void packagesAreFreeOfCycles() {
    ArchRule rule = slices().matching("io.switchboard.(**)")
        .namingSlices("package io.switchboard.$1")
        .should().beFreeOfCycles()
        .because("a package that depends on one that depends back on it cannot be understood, tested or moved alone");
    rule.check(MAIN_CLASSES);
  }
}
