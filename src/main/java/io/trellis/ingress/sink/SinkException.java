package io.trellis.ingress.sink;

import java.util.Map;

/**
 * Why a sink could not store a batch. The kind decides what the delivery loop does:
 *
 * <ul>
 *   <li>{@link Kind#TRANSIENT}: the store is down, slow or overloaded; retry the same batch with
 *       backoff, without limit.
 *   <li>{@link Kind#PERMANENT}: the store refuses this batch as bad data; split it to isolate the
 *       bad rows, dead-letter those, store the rest.
 *   <li>{@link Kind#ROWS}: the store named the bad rows ({@link #rowErrors()}, batch index to
 *       reason); dead-letter exactly those. Either it accepted nothing, and the rest is written
 *       again, or ({@link #othersStored()}) it stored every other row, and the batch is done.
 * </ul>
 */
public final class SinkException extends Exception {
  public enum Kind {
    TRANSIENT,
    PERMANENT,
    ROWS
  }

  private final Kind kind;
  private final Map<Integer, String> rowErrors;
  private final boolean othersStored;

  private SinkException(
      Kind kind, String message, Throwable cause, Map<Integer, String> rows, boolean othersStored) {
    super(message, cause);
    this.kind = kind;
    this.rowErrors = Map.copyOf(rows);
    this.othersStored = othersStored;
  }

  public static SinkException transientFailure(String message, Throwable cause) {
    return new SinkException(Kind.TRANSIENT, message, cause, Map.of(), false);
  }

  public static SinkException permanent(String message, Throwable cause) {
    return new SinkException(Kind.PERMANENT, message, cause, Map.of(), false);
  }

  public static SinkException rows(String message, Map<Integer, String> rowErrors) {
    if (rowErrors.isEmpty()) {
      throw new IllegalArgumentException("no row errors");
    }
    return new SinkException(Kind.ROWS, message, null, rowErrors, false);
  }

  /**
   * The store refused the named rows and stored every other row of the batch (a sink that writes
   * one batch in several inserts): dead-letter the named rows, write nothing again.
   */
  public static SinkException rowsOthersStored(String message, Map<Integer, String> rowErrors) {
    if (rowErrors.isEmpty()) {
      throw new IllegalArgumentException("no row errors");
    }
    return new SinkException(Kind.ROWS, message, null, rowErrors, true);
  }

  public Kind kind() {
    return kind;
  }

  public Map<Integer, String> rowErrors() {
    return rowErrors;
  }

  /** For {@link Kind#ROWS}: true when every row not named is already stored. */
  public boolean othersStored() {
    return othersStored;
  }
}
