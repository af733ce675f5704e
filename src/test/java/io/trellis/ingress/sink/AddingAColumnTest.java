package io.trellis.ingress.sink;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.cloud.bigquery.Field;
import com.google.cloud.bigquery.StandardSQLTypeName;
import com.google.protobuf.DynamicMessage;
import io.trellis.ingress.cli.SchemaReference;
import io.trellis.ingress.cli.ServiceSettings;
import io.trellis.ingress.event.Column;
import io.trellis.ingress.event.ColumnType;
import io.trellis.ingress.event.EventLines;
import io.trellis.ingress.event.EventSchema;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.bigquery.EventRows;
import io.trellis.ingress.sink.bigquery.EventTable;
import io.trellis.ingress.sink.clickhouse.ClickHouseConfig;
import io.trellis.ingress.sink.clickhouse.ClickHouseSchema;
import io.trellis.ingress.sink.clickhouse.ServerVersion;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A column added to the schema, and nothing else, appears in every rendering: the files sink's
 * lines, ClickHouse's table, upgrade and rows, BigQuery's table and rows, and the README table.
 */
class AddingAColumnTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Two columns of kinds a later version adds: a time and a short text, derived from the event. */
  private static final EventSchema WIDER =
      EventSchema.EVENTS
          .with(
              Column.time(
                  "server_clock_check", e -> e.timestamp() - 1_000, "the client's own time"),
              "timestamp")
          .with(
              Column.text(
                  "referer_host",
                  ColumnType.KEYWORD,
                  e -> URI.create(e.referer()).getHost(),
                  "the referer's host"),
              "referer");

  private static final TrafficEvent EVENT =
      new TrafficEvent(
          "org-a",
          "0190f3c4-7a2b-7c3d-8e4f-5a6b7c8d9e0f",
          1_764_201_599_123L,
          "POST",
          "/events",
          "{\"x\":\"1\"}",
          "{}",
          "{\"event\":\"signup\"}",
          "203.0.113.7",
          "curl/8",
          "https://shop.example.com/cart",
          "signup",
          "",
          "",
          "news",
          "",
          "");

  @Test
  void theFilesLineHasTheNewKeysInSchemaOrder() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new EventLines(WIDER.columns(), false).writeAll(out, List.of(EVENT), 1_764_201_600_000L);
    JsonNode line = JSON.readTree(out.toString(StandardCharsets.UTF_8));
    List<String> keys = new ArrayList<>();
    line.fieldNames().forEachRemaining(keys::add);
    assertThat(keys)
        .containsSubsequence("timestamp", "server_clock_check", "method")
        .containsSubsequence("referer", "referer_host", "event_type");
    assertThat(line.get("server_clock_check").asText()).isEqualTo("2025-11-26T23:59:58.123Z");
    assertThat(line.get("referer_host").asText()).isEqualTo("shop.example.com");
  }

  @Test
  void clickHouseCreatesAddsAndInsertsTheNewColumns() throws Exception {
    ClickHouseConfig config =
        ClickHouseConfig.from(
            ServiceSettings.config(Map.of("clickhouse.url", "http://127.0.0.1:8123")));
    ClickHouseSchema s = new ClickHouseSchema(config, ServerVersion.parse("25.3"), WIDER);
    assertThat(s.createStatements().get(0))
        .contains("timestamp DateTime64(3),\n  server_clock_check DateTime64(3),\n  method")
        .contains("referer_host LowCardinality(String),\n  event_type");
    // A table of today's columns gains exactly these, each after its predecessor.
    List<String> alters =
        s.missingColumns(EventSchema.EVENTS.names()).stream()
            .map(m -> s.addColumn("default.events", m.getKey(), m.getValue()))
            .toList();
    assertThat(alters)
        .containsExactly(
            "ALTER TABLE default.events ADD COLUMN server_clock_check DateTime64(3) AFTER timestamp",
            "ALTER TABLE default.events ADD COLUMN referer_host LowCardinality(String) AFTER"
                + " referer");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    var rows = s.insertRows(WIDER.names());
    assertThat(rows.names()).contains("server_clock_check", "referer_host");
    rows.write(out, List.of(EVENT), -1);
    JsonNode row = JSON.readTree(out.toString(StandardCharsets.UTF_8));
    assertThat(row.get("server_clock_check").asText()).isEqualTo("2025-11-26T23:59:58.123Z");
    assertThat(row.get("referer_host").asText()).isEqualTo("shop.example.com");
  }

  @Test
  void bigQueryHasTheNewFieldsInTableAndRows() throws Exception {
    Field client = EventTable.schema(WIDER).getFields().get("server_clock_check");
    assertThat(client.getType().getStandardType()).isEqualTo(StandardSQLTypeName.TIMESTAMP);
    assertThat(EventTable.schema(WIDER).getFields().get("referer_host").getType().getStandardType())
        .isEqualTo(StandardSQLTypeName.STRING);
    EventRows rows = new EventRows(WIDER);
    DynamicMessage m = DynamicMessage.parseFrom(rows.descriptor(), rows.encode(EVENT, 5_000L));
    assertThat(m.getField(rows.descriptor().findFieldByName("server_clock_check")))
        .isEqualTo((EVENT.timestamp() - 1_000) * 1000);
    assertThat(m.getField(rows.descriptor().findFieldByName("referer_host")))
        .isEqualTo("shop.example.com");
    // The table made from the wider schema takes the rows; today's table lacks the columns.
    assertThat(EventTable.incompatibilities(EventTable.definition(WIDER), WIDER)).isEmpty();
  }

  @Test
  void theReadmeTableListsTheNewColumns() {
    assertThat(SchemaReference.table(WIDER))
        .contains("| `server_clock_check` | `server_clock_check` ISO-8601 string")
        .contains("`referer_host LowCardinality(String)`")
        .contains("the referer's host");
  }
}
