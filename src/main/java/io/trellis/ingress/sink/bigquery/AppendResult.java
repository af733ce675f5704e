package io.trellis.ingress.sink.bigquery;

import com.google.cloud.bigquery.storage.v1.Exceptions;
import io.grpc.Status;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * What one append to a committed stream came to, sorted into the cases the sink handles
 * differently. Built from the response future's outcome.
 */
record AppendResult(
    Outcome outcome, long streamEnd, Map<Integer, String> rowErrors, String detail) {

  enum Outcome {
    /** The rows are stored at the requested offset. */
    OK,
    /** Something is stored at the requested offset already: the stream is longer. */
    ALREADY_EXISTS,
    /** The requested offset is beyond the end of the stream. */
    OUT_OF_RANGE,
    /** The stream no longer takes appends (not found, finalized): continue in a new one. */
    STREAM_GONE,
    /** BigQuery refused these rows (the index is the row's position in the request). */
    ROW_ERRORS,
    /** The request itself is invalid (bad data the service could not attribute to a row). */
    INVALID,
    /** The table does not take our rows any more (a column was dropped or changed). */
    SCHEMA_MISMATCH,
    /** Unavailable, overloaded, timed out, or the connection failed: try again later. */
    TRANSIENT
  }

  static final long UNKNOWN = -1;

  static AppendResult ok() {
    return new AppendResult(Outcome.OK, UNKNOWN, Map.of(), "ok");
  }

  /** Classifies a failed append; {@code t} is the cause the response future failed with. */
  static AppendResult failed(Throwable t) {
    String detail = describe(t);
    if (t instanceof Exceptions.OffsetAlreadyExists e) {
      return new AppendResult(Outcome.ALREADY_EXISTS, expected(e), Map.of(), detail);
    }
    if (t instanceof Exceptions.OffsetOutOfRange e) {
      return new AppendResult(Outcome.OUT_OF_RANGE, expected(e), Map.of(), detail);
    }
    if (t instanceof Exceptions.StreamNotFound
        || t instanceof Exceptions.StreamFinalizedException) {
      return new AppendResult(Outcome.STREAM_GONE, UNKNOWN, Map.of(), detail);
    }
    if (t instanceof Exceptions.SchemaMismatchedException) {
      return new AppendResult(Outcome.SCHEMA_MISMATCH, UNKNOWN, Map.of(), detail);
    }
    if (t instanceof Exceptions.AppendSerializtionError e
        && e.getRowIndexToErrorMessage() != null
        && !e.getRowIndexToErrorMessage().isEmpty()) {
      return new AppendResult(
          Outcome.ROW_ERRORS, UNKNOWN, Map.copyOf(e.getRowIndexToErrorMessage()), detail);
    }
    if (t instanceof Exceptions.StreamWriterClosedException || t instanceof TimeoutException) {
      return new AppendResult(Outcome.TRANSIENT, UNKNOWN, Map.of(), detail);
    }
    Status.Code code = Status.fromThrowable(t).getCode();
    Outcome o =
        switch (code) {
          case ALREADY_EXISTS -> Outcome.ALREADY_EXISTS;
          case OUT_OF_RANGE -> Outcome.OUT_OF_RANGE;
          case NOT_FOUND -> Outcome.STREAM_GONE;
          case INVALID_ARGUMENT -> Outcome.INVALID;
          default -> Outcome.TRANSIENT;
        };
    return new AppendResult(o, UNKNOWN, Map.of(), detail);
  }

  private static long expected(Exceptions.StorageException e) {
    try {
      return e.getExpectedOffset();
    } catch (RuntimeException ex) {
      return UNKNOWN; // the service's message did not carry the offset
    }
  }

  private static String describe(Throwable t) {
    if (t instanceof TimeoutException) {
      return "no acknowledgement in time";
    }
    Status s = Status.fromThrowable(t);
    if (s.getCode() != Status.Code.UNKNOWN) {
      return s.getCode() + (s.getDescription() == null ? "" : ": " + s.getDescription());
    }
    return t.toString();
  }
}
