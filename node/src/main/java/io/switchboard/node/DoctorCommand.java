package io.switchboard.node;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.URI;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code switchboard doctor}: prints a diagnosis of a running cluster; exit status 0 only when all is well. */
@Command(name = "doctor", mixinStandardHelpOptions = true,
    description = "Inspects a running cluster through one of its gateways and prints what is wrong and how to "
        + "fix it. Exit status 0 when all is well, 1 when something is wrong.")
final class DoctorCommand implements Callable<Integer> {

  @Option(names = "--gateway", paramLabel = "URL", defaultValue = "http://127.0.0.1:8080",
      description = "The gateway to ask (default ${DEFAULT-VALUE})")
  URI gateway;

  @Option(names = "--admin-key", paramLabel = "KEY", defaultValue = "${env:SWITCHBOARD_GATEWAY_ADMIN_KEY}",
      description = "The gateway's admin key, if it has one (default: $SWITCHBOARD_GATEWAY_ADMIN_KEY)")
  String adminKey;

  @Option(names = "--api-key", paramLabel = "KEY", defaultValue = "${env:SWITCHBOARD_DOCTOR_API_KEY}",
      description = "An API key for the test requests, if the gateway has keys (default: $SWITCHBOARD_DOCTOR_API_KEY)")
  String apiKey;

  @Option(names = "--expect-members", paramLabel = "N",
      description = "How many cluster members there should be (a problem if fewer are seen)")
  Integer expectedMembers;

  @Override
  public Integer call() {
    List<ClusterDoctor.Finding> findings = new ClusterDoctor(gateway, adminKey, apiKey, expectedMembers).examine();
    long problems = findings.stream().filter(f -> f.severity() == ClusterDoctor.Severity.PROBLEM).count();
    long warnings = findings.stream().filter(f -> f.severity() == ClusterDoctor.Severity.WARNING).count();
    for (ClusterDoctor.Finding finding : findings) {
      String mark = switch (finding.severity()) {
        case OK -> "ok      ";
        case WARNING -> "WARNING ";
        case PROBLEM -> "PROBLEM ";
      };
      System.out.println(mark + finding.what());
      if (finding.fix() != null) {
        System.out.println("        fix: " + finding.fix());
      }
    }
    System.out.println();
    System.out.println(problems == 0
        ? "all is well" + (warnings == 0 ? "" : " (" + warnings + " warning" + (warnings == 1 ? "" : "s") + ")")
        : problems + " problem" + (problems == 1 ? "" : "s") + " found");
    return problems == 0 ? 0 : 1;
  }
}
