package io.switchboard.worker.runner;

/**
 * What a {@link GenerationRunner} reads of its worker's settings. The worker's options ({@code WorkerOptions}, in
 * the package above, which also holds every engine's settings) implement it, so the runner and the request planes
 * that use it do not depend on the package that deploys them.
 */
public interface RunnerSettings {

  /** Generations run at once. */
  int getSlots();

  /** Generations that may wait for a slot; more are refused as busy. */
  int getMaxQueue();

  /** How long a drain waits for running streams before it ends them. */
  long getDrainTimeoutMs();

  /** The model the worker announces, or empty when its models come from its engine or its model directory. */
  String announcedModel();
}
