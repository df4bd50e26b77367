package io.switchboard.worker.engine;

/** A running generation, as its engine returns it. */
public interface Generation {

  /** Stops generating (client gone, deadline, gateway left); the engine writes nothing more afterwards. */
  void cancel();
}
