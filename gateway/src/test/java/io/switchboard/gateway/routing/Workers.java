package io.switchboard.gateway.routing;

import io.switchboard.gateway.registry.LocalInFlight;
import io.switchboard.gateway.registry.WorkerState;
import io.switchboard.protocol.WorkerDescriptor;

import java.util.ArrayList;
import java.util.List;

/** Routable workers of model "m" with a given number of open requests, for policy tests. */
final class Workers {

  private Workers() {
  }

  static WorkerState worker(String id) {
    return worker(id, 8, 0);
  }

  static WorkerState worker(String id, int slots, int open) {
    LocalInFlight inFlight = new LocalInFlight();
    for (int i = 0; i < open; i++) {
      inFlight.increment();
    }
    return new WorkerState(new WorkerDescriptor(id, "node", "m", "mocker", slots, 8192, null), null, -1, null,
        inFlight);
  }

  static List<WorkerState> idle(String... ids) {
    List<WorkerState> workers = new ArrayList<>();
    for (String id : ids) {
      workers.add(worker(id));
    }
    return workers;
  }

  static RouteRequest request(String prompt) {
    return new RouteRequest("m", prompt, null);
  }

  /** Picks {@code times} times, counting each pick as an open request on its worker (as the router does). */
  static List<String> picks(RoutingPolicy policy, RouteRequest request, List<WorkerState> candidates, int times) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < times; i++) {
      WorkerState worker = policy.pick(request, candidates).worker();
      worker.openHere().increment();
      ids.add(worker.workerId());
    }
    return ids;
  }
}
