package io.trellis.ingress.spool;

/** The spool is over its budget: the client should retry later (503 with Retry-After). */
public final class SpoolFullException extends RuntimeException {
  public SpoolFullException(String message) {
    super(message, null, false, false);
  }
}
