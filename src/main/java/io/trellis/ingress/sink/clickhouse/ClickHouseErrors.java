package io.trellis.ingress.sink.clickhouse;

import com.clickhouse.client.api.ServerException;
import io.trellis.ingress.sink.SinkException;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns what went wrong with an insert into the {@link SinkException} kind the spool acts on.
 *
 * <p>Only server errors that say <em>this data</em> is unacceptable are {@link
 * SinkException.Kind#PERMANENT}: the spool then splits the batch until the bad rows are alone and
 * dead-letters them. Everything else is {@link SinkException.Kind#TRANSIENT} and retried with
 * backoff: the server down or slow, overload ({@code TOO_MANY_PARTS}, memory limits), and also
 * errors an operator must fix (authentication, a missing table or column), because dead-lettering
 * good events for a configuration mistake would be worse than waiting. An unknown error is
 * transient for the same reason.
 */
public final class ClickHouseErrors {
  /** Server error codes that blame the inserted data (names from ClickHouse's ErrorCodes.cpp). */
  static final Set<Integer> BAD_DATA =
      Set.of(
          6, // CANNOT_PARSE_TEXT
          26, // CANNOT_PARSE_QUOTED_STRING
          27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
          38, // CANNOT_PARSE_DATE
          41, // CANNOT_PARSE_DATETIME
          53, // TYPE_MISMATCH
          69, // ARGUMENT_OUT_OF_BOUND
          70, // CANNOT_CONVERT_TYPE
          72, // CANNOT_PARSE_NUMBER
          117, // INCORRECT_DATA
          130, // CANNOT_READ_ARRAY_FROM_TEXT
          131, // TOO_LARGE_STRING_SIZE
          321, // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
          376, // CANNOT_PARSE_UUID
          469, // VIOLATED_CONSTRAINT
          691); // UNKNOWN_ELEMENT_OF_ENUM

  /** Codes that are retried and worth naming in the log (all other codes are retried too). */
  static final Set<Integer> OVERLOAD =
      Set.of(
          202, // TOO_MANY_SIMULTANEOUS_QUERIES
          241, // MEMORY_LIMIT_EXCEEDED
          252, // TOO_MANY_PARTS
          173); // CANNOT_ALLOCATE_MEMORY

  private static final int TOO_MANY_PARTS = 252;

  private static final Pattern CODE_IN_BODY = Pattern.compile("^\\s*Code: (\\d{1,5})\\b");

  private ClickHouseErrors() {}

  /** The failure of one insert as a sink exception. */
  public static SinkException classify(Throwable failure) {
    Throwable t = unwrap(failure);
    ServerException server = find(t, ServerException.class);
    if (server != null) {
      int code = code(server);
      String message = "ClickHouse error " + code + ": " + summary(server.getMessage());
      if (code == TOO_MANY_PARTS && isTooManyPartitions(server.getMessage())) {
        // Error 252 has two meanings. This one is about the shape of one insert (more partitions
        // than max_partitions_per_insert_block): the same insert fails every time, and the sink
        // cuts it smaller. The other, "Too many parts", is merges falling behind: back off.
        return SinkException.transientFailure(TOO_MANY_PARTITIONS + ": " + message, server);
      }
      if (BAD_DATA.contains(code)) {
        return SinkException.permanent("rejected as bad data: " + message, server);
      }
      if (OVERLOAD.contains(code)) {
        return SinkException.transientFailure("overloaded, backing off: " + message, server);
      }
      return SinkException.transientFailure(message, server);
    }
    return SinkException.transientFailure("ClickHouse unreachable: " + summary(describe(t)), t);
  }

  /**
   * The server's error code. The client takes it from the {@code X-ClickHouse-Exception-Code}
   * header, which servers before 19.x do not send; their body starts with {@code Code: NNN}.
   */
  static int code(ServerException e) {
    if (e.getCode() > 0) {
      return e.getCode();
    }
    Matcher m = CODE_IN_BODY.matcher(String.valueOf(e.getMessage()));
    return m.find() ? Integer.parseInt(m.group(1)) : e.getCode();
  }

  /** The server's error code of a failure, or -1 when the server did not answer with one. */
  static int serverCode(Throwable failure) {
    ServerException server = find(unwrap(failure), ServerException.class);
    return server == null ? -1 : code(server);
  }

  /** The start of the message of a failure that {@link #tooManyPartitions} recognizes. */
  static final String TOO_MANY_PARTITIONS = "too many partitions for one insert";

  /**
   * True for error 252 meaning one insert touched more partitions than {@code
   * max_partitions_per_insert_block} allows (not "Too many parts", which is overload).
   */
  static boolean tooManyPartitions(SinkException e) {
    return e.getMessage() != null && e.getMessage().startsWith(TOO_MANY_PARTITIONS);
  }

  static boolean isTooManyPartitions(String serverMessage) {
    return serverMessage != null && serverMessage.contains("Too many partitions for single INSERT");
  }

  /** True when the failure happened before the server answered: try another URL next time. */
  static boolean isConnectionFailure(Throwable failure) {
    return find(unwrap(failure), ServerException.class) == null;
  }

  private static Throwable unwrap(Throwable t) {
    Throwable cur = t;
    while ((cur instanceof ExecutionException || cur instanceof CompletionException)
        && cur.getCause() != null) {
      cur = cur.getCause();
    }
    return cur;
  }

  private static <T extends Throwable> T find(Throwable t, Class<T> type) {
    for (Throwable cur = t; cur != null; cur = cur.getCause()) {
      if (type.isInstance(cur)) {
        return type.cast(cur);
      }
      if (cur.getCause() == cur) {
        break;
      }
    }
    return null;
  }

  private static String describe(Throwable t) {
    StringBuilder sb = new StringBuilder(String.valueOf(t.getMessage()));
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    if (root != t) {
      sb.append(" (").append(root.getClass().getSimpleName());
      if (root.getMessage() != null) {
        sb.append(": ").append(root.getMessage());
      }
      sb.append(')');
    }
    return sb.toString();
  }

  /** The first lines of a message, short enough for a log line. */
  static String summary(String message) {
    if (message == null) {
      return "(no message)";
    }
    String s = message.replace('\n', ' ').replaceAll("\\s+", " ").trim();
    return s.length() <= 300 ? s : s.substring(0, 300) + "...";
  }
}
