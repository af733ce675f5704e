package io.trellis.ingress.testing.chdb;

import java.util.Map;
import java.util.Set;

/**
 * The HTTP status ClickHouse answers an error with, by error name: the table of ClickHouse's {@code
 * src/Server/HTTP/exceptionCodeToHTTPStatus.cpp}. Stateless.
 */
final class HttpStatus {
  private static final Set<String> BAD_REQUEST =
      Set.of(
          "BAD_ARGUMENTS",
          "CANNOT_COMPILE_REGEXP",
          "CANNOT_PARSE_TEXT",
          "CANNOT_PARSE_ESCAPE_SEQUENCE",
          "CANNOT_PARSE_QUOTED_STRING",
          "CANNOT_PARSE_DATE",
          "CANNOT_PARSE_DATETIME",
          "CANNOT_PARSE_NUMBER",
          "CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING",
          "CANNOT_PARSE_IPV4",
          "CANNOT_PARSE_IPV6",
          "CANNOT_PARSE_INPUT_ASSERTION_FAILED",
          "CANNOT_PARSE_UUID",
          "DUPLICATE_COLUMN",
          "ILLEGAL_COLUMN",
          "UNKNOWN_ELEMENT_IN_AST",
          "UNKNOWN_TYPE_OF_AST_NODE",
          "THERE_IS_NO_COLUMN",
          "TOO_DEEP_AST",
          "TOO_BIG_AST",
          "UNEXPECTED_AST_STRUCTURE",
          "SYNTAX_ERROR",
          "INCORRECT_DATA",
          "TYPE_MISMATCH",
          "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE");

  private static final Set<String> NOT_FOUND =
      Set.of(
          "UNKNOWN_TABLE",
          "UNKNOWN_FUNCTION",
          "UNKNOWN_IDENTIFIER",
          "UNKNOWN_TYPE",
          "UNKNOWN_STORAGE",
          "UNKNOWN_DATABASE",
          "UNKNOWN_SETTING",
          "UNKNOWN_DIRECTION_OF_SORTING",
          "UNKNOWN_AGGREGATE_FUNCTION",
          "UNKNOWN_FORMAT",
          "UNKNOWN_DATABASE_ENGINE",
          "UNKNOWN_TYPE_OF_QUERY",
          "UNKNOWN_ROLE");

  private static final Map<String, Integer> SINGLE =
      Map.ofEntries(
          Map.entry("REQUIRED_PASSWORD", 401),
          Map.entry("UNKNOWN_USER", 403),
          Map.entry("WRONG_PASSWORD", 403),
          Map.entry("AUTHENTICATION_FAILED", 403),
          Map.entry("SET_NON_GRANTED_ROLE", 403),
          Map.entry("ACCESS_DENIED", 403),
          Map.entry("QUERY_IS_TOO_LARGE", 413),
          Map.entry("NOT_IMPLEMENTED", 501),
          Map.entry("SOCKET_TIMEOUT", 503),
          Map.entry("CANNOT_OPEN_FILE", 503),
          Map.entry("HTTP_LENGTH_REQUIRED", 411),
          Map.entry("TIMEOUT_EXCEEDED", 408),
          Map.entry("CANNOT_SCHEDULE_TASK", 503),
          Map.entry("UNSUPPORTED_MEDIA_TYPE", 415));

  private HttpStatus() {}

  static int of(String errorName) {
    if (BAD_REQUEST.contains(errorName)) {
      return 400;
    }
    if (NOT_FOUND.contains(errorName)) {
      return 404;
    }
    return SINGLE.getOrDefault(errorName, 500);
  }
}
