package io.switchboard.testsupport;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The nodes one test (or one test class) started, so that one call stops them all: {@link #close} kills each
 * (SIGKILL, in the order they were started) that still runs. A test that stops a node itself may still leave it here.
 */
public final class NodeProcesses implements Iterable<NodeProcess>, AutoCloseable {

  private final List<NodeProcess> started = new ArrayList<>();

  /** Starts a node (see {@link NodeProcess}) and keeps it to be stopped. */
  public NodeProcess launch(String name, Map<String, String> env, String... args) throws IOException {
    return keep(new NodeProcess(name, env, args));
  }

  /** Like {@link #launch(String, Map, String...)}, through a command that runs the JVM elsewhere (a namespace). */
  public NodeProcess launch(String name, Map<String, String> env, List<String> launcher, String... args)
      throws IOException {
    return keep(new NodeProcess(name, env, launcher, args));
  }

  private NodeProcess keep(NodeProcess process) {
    synchronized (started) {
      started.add(process);
    }
    return process;
  }

  /** The {@code index}-th node started. */
  public NodeProcess get(int index) {
    synchronized (started) {
      return started.get(index);
    }
  }

  /** The nodes started so far, in order (a copy: a node started meanwhile is not in it). */
  @Override
  public Iterator<NodeProcess> iterator() {
    synchronized (started) {
      return List.copyOf(started).iterator();
    }
  }

  @Override
  public void close() throws InterruptedException {
    List<NodeProcess> all;
    synchronized (started) {
      all = new ArrayList<>(started);
      started.clear();
    }
    for (NodeProcess process : all) {
      process.close();
    }
  }
}
