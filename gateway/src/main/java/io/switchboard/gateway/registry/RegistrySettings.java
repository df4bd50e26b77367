package io.switchboard.gateway.registry;

/**
 * What the {@link WorkerRegistry} reads of the gateway's settings. The gateway's options implement it, so the
 * registry, which the routing, metrics and request-plane packages build on, does not depend on the package that
 * holds every gateway setting (and through it on the packages above).
 */
public interface RegistrySettings {

  /** A worker whose last load report is older than this is not routed to, and its streams fail. */
  long getWorkerSilenceMs();

  /** How often the registry reads every discovery record again, to catch an announcement it missed. */
  long getRegistryResyncMs();
}
