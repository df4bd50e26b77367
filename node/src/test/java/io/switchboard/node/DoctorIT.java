package io.switchboard.node;

import io.switchboard.node.ClusterTestSupport.DoctorRun;
import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.FreePorts;
import io.switchboard.testsupport.NodeProcess;
import io.switchboard.testsupport.NodeProcesses;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static io.switchboard.node.ClusterTestSupport.doctor;
import static io.switchboard.node.ClusterTestSupport.freshCluster;
import static io.switchboard.node.ClusterTestSupport.listedWorkers;
import static io.switchboard.node.ClusterTestSupport.routableWorkers;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code switchboard doctor} as an operator runs it, against real nodes: all is well (exit 0) for the embedded
 * default; a gateway whose only worker was killed, and an address where nothing listens, are diagnosed (exit 1)
 * with the cause and the fix.
 */
class DoctorIT {

  private static final NodeProcesses processes = new NodeProcesses();

  @AfterAll
  static void stopAll() throws Exception {
    processes.close();
  }

  @Test
  void allIsWellForTheEmbeddedDefault() throws Exception {
    int port = FreePorts.any();
    Map<String, String> env = new HashMap<>(freshCluster("doctor-ok"));
    env.put("SWITCHBOARD_WORKERS_0_ID", "embedded-1");
    processes.launch("doctor-embedded", env, "--http-port", Integer.toString(port));
    Eventually.within(ofSeconds(60), "the embedded node serves", () -> routableWorkers(port).contains("embedded-1"));

    DoctorRun run = doctor("--gateway", "http://127.0.0.1:" + port, "--expect-members", "1");

    assertThat(run.exit()).as(run.output()).isZero();
    assertThat(run.output()).contains("model 'mock-llm': 1 of 1 workers routable")
        .contains("a request to 'mock-llm' went through (worker embedded-1)").contains("all is well");
  }

  @Test
  void aGatewayWhoseOnlyWorkerWasKilledIsDiagnosed() throws Exception {
    int port = FreePorts.any();
    Map<String, String> cluster = freshCluster("doctor-lost");
    processes.launch("doctor-gateway", cluster, "--roles", "gateway", "--http-port",
        Integer.toString(port));
    Map<String, String> env = new HashMap<>(cluster);
    env.put("SWITCHBOARD_WORKERS_0_ID", "only-1");
    NodeProcess worker = processes.launch("doctor-worker", env, "--roles", "worker");
    Eventually.within(ofSeconds(60), "the worker serves", () -> routableWorkers(port).contains("only-1"));

    worker.kill();
    Eventually.within(ofSeconds(10), "the killed worker is gone", () -> !listedWorkers(port).contains("only-1"));
    Eventually.within(ofSeconds(10), "the gateway knows why it left",
        () -> ClusterTestSupport.get(port, "/admin/cluster").body()
        .contains("left the cluster"));
    DoctorRun run = doctor("--gateway", "http://127.0.0.1:" + port, "--expect-members", "2");

    assertThat(run.exit()).as(run.output()).isEqualTo(1);
    assertThat(run.output()).contains("PROBLEM no worker is in the cluster")
        .contains("PROBLEM expected 2 cluster members, the gateway sees 1")
        .contains("WARNING worker only-1 (mock-llm) on node ").contains("left the cluster")
        .contains("fix: start a worker").contains("problems found");
  }

  @Test
  void nothingListeningIsSaidPlainly() throws Exception {
    DoctorRun run = doctor("--gateway", "http://127.0.0.1:" + FreePorts.any());

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.output()).contains("PROBLEM nothing answers at http://127.0.0.1:")
        .contains("(connection refused)").contains("fix: start the node");
  }
}
