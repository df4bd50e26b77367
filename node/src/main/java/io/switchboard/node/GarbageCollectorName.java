package io.switchboard.node;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;

/**
 * The garbage collector this JVM runs, by its command-line name, for the node's startup log line: the node is
 * meant to run on the parallel collector ({@code java -XX:+UseParallelGC -jar ...}, docs/operations.md), and a jar
 * cannot choose its JVM's collector, so the log says which one the command line gave it.
 */
final class GarbageCollectorName {

  private GarbageCollectorName() {
  }

  static String current() {
    return of(ManagementFactory.getGarbageCollectorMXBeans().stream().map(GarbageCollectorMXBean::getName).toList());
  }

  /** @param beanNames the names of the JVM's collector beans, e.g. "PS Scavenge" and "PS MarkSweep" */
  static String of(List<String> beanNames) {
    for (String name : beanNames) {
      if (name.startsWith("PS ")) {
        return "Parallel";
      }
      if (name.startsWith("G1 ")) {
        return "G1";
      }
      if (name.startsWith("ZGC")) {
        return "Z";
      }
      if (name.startsWith("Shenandoah")) {
        return "Shenandoah";
      }
      if (name.equals("Copy") || name.equals("MarkSweepCompact")) {
        return "Serial";
      }
      if (name.startsWith("Epsilon")) {
        return "Epsilon";
      }
    }
    return beanNames.isEmpty() ? "unknown" : String.join("+", beanNames);
  }
}
