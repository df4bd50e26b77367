package io.switchboard.node;

import com.hazelcast.map.IMap;
import com.hazelcast.nio.serialization.HazelcastSerializationException;

import java.util.ArrayList;
import java.util.List;

/**
 * Removes from a cluster map the values this node refuses to deserialize (classes outside cluster.xml's
 * Java-serialization allowlist, which only another member can have written there: a rogue one). One such value
 * makes every read of the whole map fail, discovery included; removing it lets the cluster read its records
 * again. Blocking (Hazelcast's synchronous calls): run it off the event loop.
 */
final class RefusedValuePurge {

  /** One value removed: its key and what was refused. */
  record Removed(String key, String refused) {
  }

  private RefusedValuePurge() {
  }

  /** Whether a failure (of a map read) is this node's deserialization filter refusing a class. */
  static boolean isRefusal(Throwable failure) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof SecurityException) {
        return true;
      }
      if (cause.getCause() == cause) {
        break;
      }
    }
    return false;
  }

  /** Reads every value of {@code map} one by one and deletes those refused; returns what it removed. */
  static List<Removed> purge(IMap<Object, Object> map) {
    List<Removed> removed = new ArrayList<>();
    for (Object key : map.keySet()) {
      try {
        map.get(key);
      } catch (HazelcastSerializationException failure) {
        if (isRefusal(failure)) {
          // delete, not remove: the old value is not read back (it would be refused again).
          map.delete(key);
          removed.add(new Removed(String.valueOf(key), rootMessage(failure)));
        }
      }
    }
    return removed;
  }

  static String rootMessage(Throwable failure) {
    Throwable root = failure;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return String.valueOf(root.getMessage());
  }
}
