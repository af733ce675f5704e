package io.trellis.ingress.config;

/** A configuration error; its message is one line that names the key and what is wrong. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }
}
