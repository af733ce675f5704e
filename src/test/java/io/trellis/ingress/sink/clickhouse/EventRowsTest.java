package io.trellis.ingress.sink.clickhouse;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.ingress.event.TrafficEvent;
import java.io.ByteArrayOutputStream;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class EventRowsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void timesAreIsoUtcWithMillisecondsForAnyInstant() {
    DateTimeFormatter iso =
        DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    SplittableRandom random = new SplittableRandom(7);
    char[] buf = new char[24];
    List<Long> samples = new ArrayList<>(List.of(0L, 951_782_400_000L, 4_102_444_799_999L));
    for (int i = 0; i < 100_000; i++) {
      samples.add(random.nextLong(0, 253_402_300_799_999L)); // up to 9999-12-31
    }
    for (long ms : samples) {
      int n = EventRows.isoMillis(ms, buf);
      assertThat(new String(buf, 0, n)).isEqualTo(iso.format(Instant.ofEpochMilli(ms)));
    }
  }

  @Test
  void oneJsonObjectPerLineWithTheTableColumnsAndTheSameBytesEveryTime() throws Exception {
    TrafficEvent e = ClickHouseSinkContract.event("org-a", "line1\nline2 \"q\" \u0001 ✓");
    ByteArrayOutputStream first = new ByteArrayOutputStream();
    EventRows.write(first, List.of(e, e));
    ByteArrayOutputStream again = new ByteArrayOutputStream();
    EventRows.write(again, List.of(e, e));
    assertThat(again.toByteArray()).isEqualTo(first.toByteArray());

    String[] lines = first.toString(java.nio.charset.StandardCharsets.UTF_8).split("\n");
    assertThat(lines).hasSize(2);
    JsonNode row = JSON.readTree(lines[0]);
    List<String> names = new ArrayList<>();
    for (Iterator<String> it = row.fieldNames(); it.hasNext(); ) {
      names.add(it.next());
    }
    assertThat(names).isEqualTo(EventRows.COLUMNS);
    assertThat(row.get("body").asText()).isEqualTo(e.body());
    assertThat(row.get("headers").asText()).isEqualTo(e.headers());
    assertThat(row.get("timestamp").asText())
        .isEqualTo(
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'")
                .withZone(ZoneOffset.UTC)
                .format(Instant.ofEpochMilli(e.timestamp())));
  }

  @Test
  void aGivenIngestionTimeIsWrittenAsTheLastColumnOfEveryRow() throws Exception {
    TrafficEvent e = ClickHouseSinkTest.event("org-a", "{}");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    EventRows.write(out, List.of(e, e), 1_733_300_000_123L);
    String[] lines = out.toString(java.nio.charset.StandardCharsets.UTF_8).split("\n");
    assertThat(lines).hasSize(2);
    for (String line : lines) {
      JsonNode row = JSON.readTree(line);
      List<String> names = new ArrayList<>();
      row.fieldNames().forEachRemaining(names::add);
      assertThat(names).isEqualTo(EventRows.COLUMNS_WITH_INGESTED_AT);
      assertThat(row.get("ingested_at").asText()).isEqualTo("2024-12-04T08:13:20.123Z");
    }
  }
}
