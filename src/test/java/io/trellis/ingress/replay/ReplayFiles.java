package io.trellis.ingress.replay;

import io.trellis.ingress.event.SpooledEvent;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.SinkBatch;
import io.trellis.ingress.sink.files.FilesSink;
import io.trellis.ingress.sink.files.FilesSinkConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/** Stored events for replay tests, written by the real files sink. */
final class ReplayFiles {
  private static final LocalDate NOV_1 = LocalDate.parse("2026-11-01");

  private ReplayFiles() {}

  /**
   * November for acme and globex, {@code perDay} events a day, plus the days around it that a
   * replay of November must leave alone; returns the November ids.
   */
  static Set<String> month(Path dir, int perDay) throws Exception {
    Set<String> november = new HashSet<>();
    try (FilesSink files = filesSink(dir)) {
      for (int day = -1; day <= 30; day++) {
        for (String org : List.of("acme", "globex")) {
          List<TrafficEvent> events = events(org, NOV_1.plusDays(day), perDay);
          write(files, events);
          if (day >= 0 && day < 30) {
            events.forEach(e -> november.add(e.eventId()));
          }
        }
      }
    }
    return november;
  }

  /** The files sink of the data directory, as {@code serve} would write it. */
  static FilesSink filesSink(Path dir) {
    return new FilesSink(new FilesSinkConfig(true, dir.resolve("events"), 256 * 1024, false));
  }

  static void write(FilesSink files, List<TrafficEvent> events) throws Exception {
    List<SpooledEvent> items = new ArrayList<>();
    for (int i = 0; i < events.size(); i++) {
      items.add(new SpooledEvent(i, events.get(i)));
    }
    files.write(new SinkBatch(items));
  }

  /** {@code n} signups of an organization, 200 s apart from the day's start, with random ids. */
  static List<TrafficEvent> events(String org, LocalDate day, int n) {
    long start = day.atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
    List<TrafficEvent> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String id = UUID.randomUUID().toString();
      out.add(
          new TrafficEvent(
              org,
              id,
              start + i * 200_000L,
              "POST",
              "http://127.0.0.1/events",
              "{\"content-type\":\"application/json\",\"user-agent\":\"test\"}",
              "{\"utm_source\":\"google\"}",
              "{\"event\":\"signup\",\"plan\":\"pro\",\"gclid\":\"gclid-" + i + "\"}",
              "127.0.0.1",
              "test",
              "",
              "signup",
              "gclid-" + i,
              "s-" + i,
              "google",
              "",
              ""));
    }
    return out;
  }

  /** The line the files sink writes for an event. */
  static String line(Path dir, TrafficEvent e) throws Exception {
    Path tmp = Files.createTempDirectory(dir, "one");
    try (FilesSink one = new FilesSink(new FilesSinkConfig(true, tmp, 1 << 20, false))) {
      write(one, List.of(e));
    }
    try (var s = Files.walk(tmp)) {
      Path f = s.filter(p -> p.toString().endsWith(".ndjson")).findFirst().orElseThrow();
      return Files.readString(f, StandardCharsets.UTF_8).strip();
    }
  }
}
