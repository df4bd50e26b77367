package io.switchboard.gateway.plane;

import io.switchboard.protocol.GenerateError;

/** A worker refused a request or could not be reached; {@link #error()} says which and whether to retry. */
public final class WorkerRefusedException extends RuntimeException {

  private final GenerateError error;

  public WorkerRefusedException(GenerateError error) {
    super(error.message(), null, false, false);
    this.error = error;
  }

  public GenerateError error() {
    return error;
  }
}
