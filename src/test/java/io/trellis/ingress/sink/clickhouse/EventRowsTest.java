package io.trellis.ingress.sink.clickhouse;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.ingress.event.EventSchema;
import io.trellis.ingress.event.TrafficEvent;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EventRowsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void oneJsonObjectPerLineWithTheTableColumnsAndTheSameBytesEveryTime() throws Exception {
    TrafficEvent e = ClickHouseSinkContract.event("org-a", "line1\nline2 \"q\" \u0001 ✓");
    EventRows rows = EventRows.allButWriteTime(EventSchema.EVENTS);
    ByteArrayOutputStream first = new ByteArrayOutputStream();
    rows.write(first, List.of(e, e), -1);
    ByteArrayOutputStream again = new ByteArrayOutputStream();
    rows.write(again, List.of(e, e), -1);
    assertThat(again.toByteArray()).isEqualTo(first.toByteArray());

    String[] lines = first.toString(StandardCharsets.UTF_8).split("\n");
    assertThat(lines).hasSize(2);
    JsonNode row = JSON.readTree(lines[0]);
    List<String> names = new ArrayList<>();
    row.fieldNames().forEachRemaining(names::add);
    // body_base64 only for bodies that were not valid UTF-8, the client's times only when it
    // sent them; the column default otherwise.
    assertThat(names)
        .isEqualTo(
            rows.names().stream()
                .filter(n -> !List.of("body_base64", "client_timestamp", "sent_at").contains(n))
                .toList())
        .contains("source", "medium", "campaign")
        .doesNotContain("ingested_at");
    assertThat(row.get("body").asText()).isEqualTo(e.body());
    // JSON text columns hold the text, as a string.
    assertThat(row.get("headers").isTextual()).isTrue();
    assertThat(row.get("headers").asText()).isEqualTo(e.headers());
    assertThat(row.get("campaign").asText()).isEqualTo("spring-sale");
    assertThat(row.get("timestamp").asText())
        .isEqualTo(
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'")
                .withZone(ZoneOffset.UTC)
                .format(Instant.ofEpochMilli(e.timestamp())));
  }

  @Test
  void aGivenIngestionTimeIsWrittenAsTheLastColumnOfEveryRow() throws Exception {
    TrafficEvent e = ClickHouseSinkContract.event("org-a", "{}");
    EventRows rows = new EventRows(EventSchema.EVENTS.columns());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    rows.write(out, List.of(e, e), 1_733_300_000_123L);
    String[] lines = out.toString(StandardCharsets.UTF_8).split("\n");
    assertThat(lines).hasSize(2);
    for (String line : lines) {
      JsonNode row = JSON.readTree(line);
      List<String> names = new ArrayList<>();
      row.fieldNames().forEachRemaining(names::add);
      assertThat(names.get(names.size() - 1)).isEqualTo("ingested_at");
      assertThat(row.get("ingested_at").asText()).isEqualTo("2024-12-04T08:13:20.123Z");
    }
  }
}
