package io.switchboard.node;

import io.switchboard.testsupport.Eventually;
import io.switchboard.testsupport.FreePorts;
import io.switchboard.testsupport.NodeProcess;
import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import static io.switchboard.node.ClusterTestSupport.freshCluster;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A node that cannot start says why and exits non-zero instead of half-running: its HTTP port taken by another
 * program, a setting with a value it cannot use, or a cluster plane that would listen beyond loopback in plaintext.
 */
class StartupFailuresIT {

  @Test
  void aTakenHttpPortIsNamedWithWhatToDo() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
         NodeProcess node = new NodeProcess("port-taken", freshCluster("port-taken"), "--http-port",
             Integer.toString(taken.getLocalPort()))) {
      assertThat(node.waitForExit(60_000)).isEqualTo(1);
      assertThat(node.output()).contains("gateway.httpPort " + taken.getLocalPort() + " on 127.0.0.1 is already in use")
          .contains("Pass --http-port N for a second gateway");
    }
  }

  @Test
  void aSettingItCannotUseIsNamedBeforeAnythingStarts() throws Exception {
    Map<String, String> env = new HashMap<>(freshCluster("bad-setting"));
    env.put("SWITCHBOARD_GATEWAY_ADMIN_KEY", "short");
    try (NodeProcess node = new NodeProcess("bad-setting", env)) {
      assertThat(node.waitForExit(60_000)).isEqualTo(2);
      assertThat(node.output()).contains("configuration error: gateway.adminKey must be at least 8 characters");
    }
  }

  /** An emptied keys file must not start a gateway with its API open to everyone. */
  @Test
  void aKeysFileThatHoldsNoKeyStopsTheNode() throws Exception {
    java.nio.file.Path keys = java.nio.file.Files.createTempFile("switchboard-keys", ".txt");
    try {
      Map<String, String> env = new HashMap<>(freshCluster("empty-keys"));
      env.put("SWITCHBOARD_GATEWAY_API_KEYS_FILE", keys.toString());
      try (NodeProcess node = new NodeProcess("empty-keys", env)) {
        assertThat(node.waitForExit(60_000)).isEqualTo(2);
        assertThat(node.output()).contains("configuration error: gateway.apiKeysFile: " + keys
            + " holds no API key (it is empty)");
      }
    } finally {
      java.nio.file.Files.deleteIfExists(keys);
    }
  }

  @Test
  void aClusterPlaneBeyondLoopbackWithoutTlsIsRefusedSayingWhatToSet() throws Exception {
    Map<String, String> env = new HashMap<>(freshCluster("open-plane"));
    env.put("SWITCHBOARD_CLUSTER_MEMBERS", "10.255.255.1");
    try (NodeProcess node = new NodeProcess("open-plane", env, "--cluster-host", "10.255.255.1")) {
      assertThat(node.waitForExit(60_000)).isEqualTo(2);
      assertThat(node.output())
          .contains("configuration error: cluster.host 10.255.255.1 is not a loopback address, and cluster TLS is off")
          .contains("Set cluster.tlsCertPath, cluster.tlsKeyPath and cluster.tlsCaPath")
          .contains("cluster.insecure: true (SWITCHBOARD_CLUSTER_INSECURE=true)");
    }
  }

  @Test
  void withClusterInsecureItStartsAndWarnsWhatAnyoneOnThatNetworkCanDo() throws Exception {
    Optional<String> address = Collections.list(NetworkInterface.getNetworkInterfaces()).stream()
        .filter(nic -> {
          try {
            return nic.isUp() && !nic.isLoopback();
          } catch (java.net.SocketException gone) {
            return false;
          }
        })
        .flatMap(nic -> Collections.list(nic.getInetAddresses()).stream())
        .filter(a -> a instanceof Inet4Address).map(InetAddress::getHostAddress).findFirst();
    assumeTrue(address.isPresent(), "this machine has no non-loopback IPv4 address to listen on");
    Map<String, String> env = new HashMap<>(freshCluster("insecure"));
    env.put("SWITCHBOARD_CLUSTER_MEMBERS", address.get() + ":" + env.get("SWITCHBOARD_CLUSTER_PORT"));
    env.put("SWITCHBOARD_CLUSTER_INSECURE", "true");
    int httpPort = FreePorts.any();
    try (NodeProcess node = new NodeProcess("insecure", env, "--cluster-host", address.get(), "--http-port",
        Integer.toString(httpPort))) {
      Eventually.within(ofSeconds(90), "the node serves", () -> node.output().contains("gateway listening"));
      assertThat(node.output()).contains("INSECURE: the cluster plane is plaintext and unauthenticated")
          .contains("\"listening\":\"cluster.host " + address.get())
          .contains("announce a worker that receives prompts and an rpc-server that receives a model's weights");
      node.terminate();
      assertThat(node.waitForExit(60_000)).isZero();
    }
  }
}
