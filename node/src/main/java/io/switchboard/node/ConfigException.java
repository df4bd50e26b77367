package io.switchboard.node;

/** A configuration mistake: the message names the key (or variable, or flag) and what it accepts. */
public final class ConfigException extends RuntimeException {

  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
