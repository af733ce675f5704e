package io.trellis.ingress.cli;

/**
 * A start-up failure an operator can fix (a port in use, an address that is not local); its message
 * is one line that names the setting to change.
 */
final class StartupException extends RuntimeException {
  StartupException(String message, Throwable cause) {
    super(message, cause);
  }
}
