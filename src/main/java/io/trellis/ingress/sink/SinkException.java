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
 *   <li>{@link Kind#ROWS}: the store accepted nothing and named the bad rows ({@link #rowErrors()},
 *       batch index to reason); dead-letter exactly those and write the rest again.
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

  private SinkException(Kind kind, String message, Throwable cause, Map<Integer, String> rows) {
    super(message, cause);
    this.kind = kind;
    this.rowErrors = Map.copyOf(rows);
  }

  public static SinkException transientFailure(String message, Throwable cause) {
    return new SinkException(Kind.TRANSIENT, message, cause, Map.of());
  }

  public static SinkException permanent(String message, Throwable cause) {
    return new SinkException(Kind.PERMANENT, message, cause, Map.of());
  }

  public static SinkException rows(String message, Map<Integer, String> rowErrors) {
    if (rowErrors.isEmpty()) {
      throw new IllegalArgumentException("no row errors");
    }
    return new SinkException(Kind.ROWS, message, null, rowErrors);
  }

  public Kind kind() {
    return kind;
  }

  public Map<Integer, String> rowErrors() {
    return rowErrors;
  }
}
