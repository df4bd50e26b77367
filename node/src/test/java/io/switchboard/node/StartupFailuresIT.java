package io.switchboard.node;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashMap;
import java.util.Map;

import static io.switchboard.node.ClusterTestSupport.freshCluster;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node that cannot start says why and exits non-zero instead of half-running: its HTTP port taken by another
 * program, or a setting with a value it cannot use.
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
}
