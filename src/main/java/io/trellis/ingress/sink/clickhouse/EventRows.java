package io.trellis.ingress.sink.clickhouse;

import io.trellis.ingress.event.Column;
import io.trellis.ingress.event.EventLines;
import io.trellis.ingress.event.EventSchema;
import io.trellis.ingress.event.TrafficEvent;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;

/**
 * Encodes events as {@code JSONEachRow}: one JSON object per line, keyed by column name, written by
 * the schema's {@link EventLines} with the columns the insert names. {@code headers} and {@code
 * query_params} are JSON <em>text</em> columns, so they are written as strings holding that text.
 * Times are ISO-8601 UTC with milliseconds ({@code 2024-05-06T07:08:09.123Z}), read by the server
 * with {@code date_time_input_format=best_effort}. {@code ingested_at} is left to the column
 * default, or, when the caller names it, written with every row (a cluster's replicated tables
 * deduplicate a retried block only when it is identical, and a server-side {@code now()} would make
 * each retry differ). {@code body_base64} is written only for the events that have it (the column's
 * default, empty, stands for the others). Not thread-safe: one per writing thread.
 */
public final class EventRows {
  private final List<Column> columns;
  private final EventLines lines;

  /** Rows of the given columns of the schema, in that order. */
  public EventRows(List<Column> columns) {
    this.columns = List.copyOf(columns);
    this.lines = new EventLines(this.columns, true);
  }

  /** Rows of every column of the schema but the write time (left to the column default). */
  public static EventRows allButWriteTime(EventSchema schema) {
    return new EventRows(schema.columns().stream().filter(c -> !c.writeTime()).toList());
  }

  /** The column names, in the order they are written: the insert's column list. */
  public List<String> names() {
    return columns.stream().map(Column::name).toList();
  }

  public List<Column> columns() {
    return columns;
  }

  /**
   * Writes one row per event; {@code ingestedAtMillis} (epoch milliseconds) is the value of the
   * write-time column when it is one of the columns.
   */
  public void write(OutputStream out, List<TrafficEvent> events, long ingestedAtMillis)
      throws IOException {
    lines.writeAll(out, events, ingestedAtMillis);
  }
}
