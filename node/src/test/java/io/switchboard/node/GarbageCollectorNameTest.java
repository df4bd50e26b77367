package io.switchboard.node;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class GarbageCollectorNameTest {

  @Test
  void namesEachCollectorByItsCommandLineName() {
    assertEquals("Parallel", GarbageCollectorName.of(List.of("PS Scavenge", "PS MarkSweep")));
    assertEquals("G1", GarbageCollectorName.of(List.of("G1 Young Generation", "G1 Old Generation",
        "G1 Concurrent GC")));
    assertEquals("Serial", GarbageCollectorName.of(List.of("Copy", "MarkSweepCompact")));
    assertEquals("Z", GarbageCollectorName.of(List.of("ZGC Cycles", "ZGC Pauses")));
    assertEquals("Shenandoah", GarbageCollectorName.of(List.of("Shenandoah Pauses", "Shenandoah Cycles")));
  }

  @Test
  void anUnknownCollectorIsNamedByItsBeans() {
    assertEquals("Future Young+Future Old", GarbageCollectorName.of(List.of("Future Young", "Future Old")));
    assertEquals("unknown", GarbageCollectorName.of(List.of()));
  }

  @Test
  void theRunningJvmsCollectorIsRecognised() {
    String name = GarbageCollectorName.current();
    assertNotEquals("unknown", name);
    assertEquals(-1, name.indexOf('+'), "an unrecognised collector: " + name);
  }
}
