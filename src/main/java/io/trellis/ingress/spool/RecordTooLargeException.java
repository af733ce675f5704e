package io.trellis.ingress.spool;

/** One event is larger than the largest record the spool stores: refused before any ack (413). */
public final class RecordTooLargeException extends RuntimeException {
  public RecordTooLargeException(String message) {
    super(message, null, false, false);
  }
}
