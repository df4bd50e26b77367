package io.switchboard.gateway.plane;

/**
 * The limits a request plane keeps on a stream, from the gateway's settings. The gateway's options implement it, so
 * the planes do not depend on the package that holds every gateway setting (and through it on the packages above).
 */
public interface PlaneTimeouts {

  /** How long a worker has to accept (or refuse) a generate request before the gateway tries another. */
  long getAcceptTimeoutMs();

  /** Longest gap between two chunks of a stream before the gateway gives up on the worker. */
  long getStreamIdleTimeoutMs();

  /** Longest a whole request may take, when the request carries no deadline of its own. */
  long getRequestTimeoutMs();
}
