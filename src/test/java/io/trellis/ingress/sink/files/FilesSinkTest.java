package io.trellis.ingress.sink.files;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.ingress.capture.TrafficEvent;
import io.trellis.ingress.sink.SinkBatch;
import io.trellis.ingress.sink.SpooledEvent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FilesSinkTest {
  @TempDir Path dir;

  static TrafficEvent event(String org, String id, long ts) {
    return new TrafficEvent(
        org,
        id,
        ts,
        "POST",
        "http://h/events",
        "{}",
        "{}",
        "{\"a\":1}",
        "127.0.0.1",
        "UA",
        "",
        "event",
        "",
        "",
        "",
        "",
        "");
  }

  @Test
  void eventsLandPerOrganizationAndUtcDateAsOneJsonLineEach() throws Exception {
    FilesSink sink = new FilesSink(new FilesSinkConfig(true, dir, 1 << 20, true));
    sink.start();
    long day1 = 1_764_201_599_000L; // 2025-11-26T23:59:59Z
    sink.write(
        new SinkBatch(
            List.of(
                new SpooledEvent(0, event("acme", "e1", day1)),
                new SpooledEvent(1, event("acme", "e2", day1 + 2000)),
                new SpooledEvent(2, event("other", "e3", day1)))));

    Path d1 = dir.resolve("org=acme").resolve("date=2025-11-26");
    Path d2 = dir.resolve("org=acme").resolve("date=2025-11-27");
    assertThat(Files.list(d1).toList()).hasSize(1);
    assertThat(Files.list(d2).toList()).hasSize(1);
    assertThat(Files.list(dir.resolve("org=other").resolve("date=2025-11-26")).toList()).hasSize(1);
    String line = Files.readAllLines(Files.list(d1).toList().get(0)).get(0);
    var json = new ObjectMapper().readTree(line);
    assertThat(json.path("event_id").asText()).isEqualTo("e1");
    assertThat(json.path("timestamp").asText()).isEqualTo("2025-11-26T23:59:59.000Z");
    assertThat(json.path("body").asText()).isEqualTo("{\"a\":1}");
  }

  @Test
  void organizationIdsCannotEscapeTheDirectory() {
    assertThat(FilesSink.safeName("../../etc")).isEqualTo("%2E.%2F..%2Fetc");
    assertThat(FilesSink.safeName("acme-1.eu_west")).isEqualTo("acme-1.eu_west");
    assertThat(FilesSink.safeName("")).isEqualTo("%00");
  }

  @Test
  void aPartialLastLineLeftByACrashIsCutAtStart() throws Exception {
    Path org = dir.resolve("org=acme").resolve("date=2025-11-26");
    Files.createDirectories(org);
    Path file = org.resolve("part-1-0.ndjson");
    String whole = "{\"event_id\":\"a\"}\n{\"event_id\":\"b\"}\n";
    Files.writeString(file, whole + "{\"event_id\":\"c\",\"bo", StandardCharsets.UTF_8);
    Path clean = org.resolve("part-1-1.ndjson");
    Files.writeString(clean, whole);
    Path torn = org.resolve("part-1-2.ndjson");
    Files.writeString(torn, "{\"event_id\":\"only-partial\"");

    new FilesSink(new FilesSinkConfig(true, dir, 1 << 20, true)).start();

    assertThat(Files.readString(file)).isEqualTo(whole);
    assertThat(Files.readString(clean)).isEqualTo(whole);
    assertThat(Files.readString(torn)).isEmpty();
  }
}
