package io.switchboard.worker.engine;

import io.switchboard.protocol.GenerateError;

/** Why a model could not be loaded or unloaded, as the typed error the request planes carry. */
public final class ModelControlException extends RuntimeException {

  private final transient GenerateError error;

  public ModelControlException(GenerateError error) {
    super(error.message(), null, false, false);
    this.error = error;
  }

  public GenerateError error() {
    return error;
  }
}
