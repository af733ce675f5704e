package io.trellis.ingress.sink.clickhouse;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.trellis.ingress.event.TrafficEvent;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.stream.Stream;

/**
 * Encodes events as {@code JSONEachRow}: one JSON object per line, keyed by column name. {@code
 * headers}, {@code query_params} and {@code body} are JSON <em>text</em> columns, so they are
 * written as strings holding that text. Times are ISO-8601 UTC with milliseconds ({@code
 * 2024-05-06T07:08:09.123Z}), read by the server with {@code date_time_input_format=best_effort}.
 * {@code ingested_at} is left to the column default, or, when the caller gives it, written with
 * every row (a cluster's replicated tables deduplicate a retried block only when it is identical,
 * and a server-side {@code now()} would make each retry differ). Stateless and thread-safe.
 */
public final class EventRows {
  /** The inserted columns, in the order they are written. */
  public static final List<String> COLUMNS =
      List.of(
          "organization_id",
          "event_id",
          "timestamp",
          "method",
          "url",
          "headers",
          "query_params",
          "body",
          "ip",
          "user_agent",
          "referer",
          "event_type",
          "click_id",
          "session_id");

  /** {@link #COLUMNS} and {@code ingested_at}, for {@link #write(OutputStream, List, long)}. */
  public static final List<String> COLUMNS_WITH_INGESTED_AT =
      Stream.concat(COLUMNS.stream(), Stream.of("ingested_at")).toList();

  private static final JsonFactory JSON = new JsonFactory();

  private EventRows() {}

  /** The columns with the exact body bytes after {@code body}, for tables that have that column. */
  public static List<String> withExactBody(List<String> columns) {
    List<String> c = new java.util.ArrayList<>(columns);
    c.add(c.indexOf("body") + 1, ClickHouseSchema.EXACT_BODY_COLUMN);
    return List.copyOf(c);
  }

  public static void write(OutputStream out, List<TrafficEvent> events) throws IOException {
    write(out, events, -1);
  }

  /**
   * Writes the events with {@code ingested_at} set to {@code ingestedAtMillis} (epoch milliseconds)
   * in every row, or left to the column default when it is negative.
   */
  public static void write(OutputStream out, List<TrafficEvent> events, long ingestedAtMillis)
      throws IOException {
    write(out, events, ingestedAtMillis, false);
  }

  /**
   * As {@link #write(OutputStream, List, long)}; with {@code exactBody} (the table has the column)
   * also the exact body bytes of the events that have them (the column's default, empty, stands for
   * the others).
   */
  public static void write(
      OutputStream out, List<TrafficEvent> events, long ingestedAtMillis, boolean exactBody)
      throws IOException {
    char[] time = new char[24];
    char[] ingested = new char[24];
    int ingestedLength = ingestedAtMillis < 0 ? 0 : isoMillis(ingestedAtMillis, ingested);
    try (JsonGenerator g = JSON.createGenerator(out, JsonEncoding.UTF8)) {
      g.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
      for (TrafficEvent e : events) {
        g.writeStartObject();
        g.writeStringField("organization_id", e.organizationId());
        g.writeStringField("event_id", e.eventId());
        g.writeFieldName("timestamp");
        g.writeString(time, 0, isoMillis(e.timestamp(), time));
        g.writeStringField("method", e.method());
        g.writeStringField("url", e.url());
        g.writeStringField("headers", e.headers());
        g.writeStringField("query_params", e.queryParams());
        g.writeStringField("body", e.body());
        if (exactBody && !e.bodyBase64().isEmpty()) {
          g.writeStringField(ClickHouseSchema.EXACT_BODY_COLUMN, e.bodyBase64());
        }
        g.writeStringField("ip", e.ip());
        g.writeStringField("user_agent", e.userAgent());
        g.writeStringField("referer", e.referer());
        g.writeStringField("event_type", e.eventType());
        g.writeStringField("click_id", e.clickId());
        g.writeStringField("session_id", e.sessionId());
        if (ingestedLength > 0) {
          g.writeFieldName("ingested_at");
          g.writeString(ingested, 0, ingestedLength);
        }
        g.writeEndObject();
        g.writeRaw('\n');
      }
      g.flush();
    }
  }

  /**
   * Writes {@code yyyy-MM-ddTHH:mm:ss.SSSZ} for epoch milliseconds into {@code buf} (24 chars)
   * without allocating; years 0000 to 9999. Returns the length.
   */
  static int isoMillis(long epochMillis, char[] buf) {
    long days = Math.floorDiv(epochMillis, 86_400_000L);
    int msOfDay = (int) Math.floorMod(epochMillis, 86_400_000L);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    long z = days + 719_468;
    long era = Math.floorDiv(z, 146_097);
    long doe = z - era * 146_097;
    long yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    int day = (int) (doy - (153 * mp + 2) / 5 + 1);
    int month = (int) (mp < 10 ? mp + 3 : mp - 9);
    int year = (int) (yoe + era * 400 + (month <= 2 ? 1 : 0));
    digits(buf, 0, year, 4);
    buf[4] = '-';
    digits(buf, 5, month, 2);
    buf[7] = '-';
    digits(buf, 8, day, 2);
    buf[10] = 'T';
    digits(buf, 11, msOfDay / 3_600_000, 2);
    buf[13] = ':';
    digits(buf, 14, msOfDay / 60_000 % 60, 2);
    buf[16] = ':';
    digits(buf, 17, msOfDay / 1000 % 60, 2);
    buf[19] = '.';
    digits(buf, 20, msOfDay % 1000, 3);
    buf[23] = 'Z';
    return 24;
  }

  private static void digits(char[] buf, int at, int value, int width) {
    int v = Math.floorMod(value, width == 4 ? 10_000 : width == 3 ? 1000 : 100);
    for (int i = at + width - 1; i >= at; i--) {
      buf[i] = (char) ('0' + v % 10);
      v /= 10;
    }
  }
}
