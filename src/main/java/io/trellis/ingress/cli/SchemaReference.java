package io.trellis.ingress.cli;

import io.trellis.ingress.event.Column;
import io.trellis.ingress.event.ColumnType;
import io.trellis.ingress.event.EventSchema;
import io.trellis.ingress.sink.clickhouse.ClickHouseSchema;
import io.trellis.ingress.sink.clickhouse.ServerVersion;

/**
 * The README's table of what is stored, rendered from the {@link EventSchema}: each column as the
 * files sink, ClickHouse and BigQuery store it. {@code dev/update-readme-schema.sh} writes it into
 * the README; a test keeps the README equal to it.
 */
public final class SchemaReference {
  /** The ClickHouse version whose types the table shows (docker-compose.yml runs it). */
  static final String CLICKHOUSE_VERSION = "25.3";

  private SchemaReference() {}

  public static void main(String[] args) {
    System.out.print(table(EventSchema.EVENTS));
  }

  /** The Markdown table, one row per column, ending with a newline. */
  public static String table(EventSchema schema) {
    ClickHouseSchema.Features features =
        ClickHouseSchema.Features.of(ServerVersion.parse(CLICKHOUSE_VERSION));
    StringBuilder sb = new StringBuilder();
    sb.append(
        "| column | files (NDJSON key) | ClickHouse column | BigQuery field | what it holds |\n");
    sb.append("|---|---|---|---|---|\n");
    for (Column c : schema.columns()) {
      sb.append("| `")
          .append(c.name())
          .append("` | ")
          .append(file(c))
          .append(" | `")
          .append(ClickHouseSchema.definition(c, features))
          .append("` | ")
          .append(bigQuery(c))
          .append(" | ")
          .append(c.description())
          .append(" |\n");
    }
    return sb.toString();
  }

  private static String file(Column c) {
    String kind =
        switch (c.type()) {
          case TIME -> "ISO-8601 string";
          case JSON_OBJECT -> "object";
          default -> "string";
        };
    return "`" + c.name() + "` " + kind + (c.omitWhenEmpty() ? ", only when not empty" : "");
  }

  private static String bigQuery(Column c) {
    if (!c.bigQueryGroup().isEmpty()) {
      String kind =
          c.type() == ColumnType.JSON_OBJECT
              ? "object"
              : c.type() == ColumnType.PAYLOAD ? "JSON value, or string when not JSON" : "string";
      return "`"
          + c.bigQueryGroup()
          + "."
          + c.name()
          + "` "
          + kind
          + (c.omitWhenEmpty() ? ", only when not empty" : "");
    }
    String type =
        switch (c.type()) {
          case TIME -> "TIMESTAMP";
          case JSON_OBJECT -> "JSON";
          default -> "STRING";
        };
    String mode =
        c.writeTime()
            ? " DEFAULT CURRENT_TIMESTAMP()"
            : c.required() ? " NOT NULL" : c.type().isText() ? ", NULL when empty" : "";
    return "`" + c.name() + " " + type + "`" + mode;
  }
}
