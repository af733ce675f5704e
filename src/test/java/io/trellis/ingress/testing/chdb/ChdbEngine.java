package io.trellis.ingress.testing.chdb;

import static java.util.Objects.requireNonNull;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The ClickHouse engine of {@code libchdb.so} (chDB), called through its C API ({@code chdb.h}):
 * one connection to a data directory, one statement at a time.
 *
 * <p>Runs only in the test front's own process ({@link ChdbHttpFront}): chDB installs handlers for
 * the deadly signals, which must never replace a test JVM's. Not thread-safe: callers serialize.
 */
final class ChdbEngine implements AutoCloseable {
  /** The C functions used, with the signatures of chdb.h (size_t is 64-bit on x86-64 Linux). */
  interface Api extends Library {
    void chdb_set_signal_handlers_enabled(int enabled);

    /** {@code chdb_connection * chdb_connect(int argc, char ** argv)}. */
    Pointer chdb_connect(int argc, String[] argv);

    /** {@code void chdb_close_conn(chdb_connection * conn)}. */
    void chdb_close_conn(Pointer conn);

    /** {@code chdb_result * chdb_query_n(conn, query, query_len, format, format_len)}. */
    Pointer chdb_query_n(Pointer conn, byte[] query, long queryLength, byte[] format, long len);

    Pointer chdb_result_buffer(Pointer result);

    long chdb_result_length(Pointer result);

    Pointer chdb_result_error(Pointer result);

    double chdb_result_elapsed(Pointer result);

    long chdb_result_rows_read(Pointer result);

    long chdb_result_bytes_read(Pointer result);

    long chdb_result_rows_written(Pointer result);

    long chdb_result_bytes_written(Pointer result);

    void chdb_destroy_query_result(Pointer result);
  }

  /** What one statement returned: its output, or the engine's error message. */
  record Result(
      byte[] output,
      String error,
      double elapsedSeconds,
      long rowsRead,
      long bytesRead,
      long rowsWritten,
      long bytesWritten) {
    boolean failed() {
      return error != null;
    }
  }

  private final Api api;
  private Pointer connection;

  private ChdbEngine(Api api, Pointer connection) {
    this.api = api;
    this.connection = connection;
  }

  /** Loads the library and opens the engine on {@code dataDir} (tables kept on disk there). */
  static ChdbEngine open(Path library, Path dataDir) {
    requireNonNull(library, "library is null");
    Api api = Native.load(library.toAbsolutePath().toString(), Api.class);
    // The engine's own crash handlers would sleep for minutes before dying; a crash here must be
    // immediate so the test sees the process gone.
    api.chdb_set_signal_handlers_enabled(0);
    String[] argv = {"chdb", "--path=" + dataDir.toAbsolutePath()};
    Pointer conn = api.chdb_connect(argv.length, argv);
    if (conn == null) {
      throw new IllegalStateException("chdb_connect failed for " + dataDir);
    }
    return new ChdbEngine(api, conn);
  }

  /** Runs one statement; {@code format} is the output format when the statement names none. */
  Result query(byte[] sql, String format) {
    byte[] f = format.getBytes(StandardCharsets.US_ASCII);
    Pointer r = api.chdb_query_n(handle(), sql, sql.length, f, f.length);
    if (r == null) {
      return new Result(
          new byte[0], "Code: 1001. DB::Exception: chdb_query_n returned NULL", 0, 0, 0, 0, 0);
    }
    try {
      Pointer error = api.chdb_result_error(r);
      if (error != null) {
        return new Result(new byte[0], error.getString(0, "UTF-8"), 0, 0, 0, 0, 0);
      }
      long length = api.chdb_result_length(r);
      Pointer buffer = api.chdb_result_buffer(r);
      byte[] out =
          length == 0 || buffer == null ? new byte[0] : buffer.getByteArray(0, (int) length);
      return new Result(
          out,
          null,
          api.chdb_result_elapsed(r),
          api.chdb_result_rows_read(r),
          api.chdb_result_bytes_read(r),
          api.chdb_result_rows_written(r),
          api.chdb_result_bytes_written(r));
    } finally {
      api.chdb_destroy_query_result(r);
    }
  }

  Result query(String sql, String format) {
    return query(sql.getBytes(StandardCharsets.UTF_8), format);
  }

  /** The {@code chdb_connection} handle that {@code chdb_connect} returned a pointer to. */
  private Pointer handle() {
    if (connection == null) {
      throw new IllegalStateException("closed");
    }
    return connection.getPointer(0);
  }

  @Override
  public void close() {
    if (connection != null) {
      api.chdb_close_conn(connection);
      connection = null;
    }
  }
}
