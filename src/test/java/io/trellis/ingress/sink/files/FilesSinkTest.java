package io.trellis.ingress.sink.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.ingress.event.SpooledEvent;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.SinkBatch;
import io.trellis.ingress.sink.SinkException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FilesSinkTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long DAY_1 = 1_780_000_000_000L; // 2026-05-28
  private static final long DAY_2 = DAY_1 + 86_400_000L;

  @TempDir Path dir;

  private static TrafficEvent event(String org, String id, long ts, String body) {
    return new TrafficEvent(
        org,
        id,
        ts,
        "POST",
        "http://h/events",
        "{}",
        "{}",
        body,
        "127.0.0.1",
        "",
        "",
        "event",
        "",
        "",
        "",
        "",
        "");
  }

  /** An event whose headers hold a lone surrogate: its line cannot be written as UTF-8. */
  private static TrafficEvent unwritableHeaders(String org) {
    return new TrafficEvent(
        org,
        "bad",
        DAY_1,
        "POST",
        "",
        "{\"h\":\"\ud800\"}",
        "{}",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "");
  }

  /** A started sink that never forces its files, with or without direct I/O. */
  private FilesSink startedWithoutFsync(boolean directIo) throws Exception {
    FilesSink sink =
        new FilesSink(
            new FilesSinkConfig(
                true,
                dir,
                1 << 30,
                false,
                FilesSinkConfig.DEFAULT_FSYNC_INTERVAL,
                FilesSinkConfig.DEFAULT_FSYNC_MAX_EVENTS,
                directIo));
    sink.start();
    return sink;
  }

  private static SinkBatch batch(List<TrafficEvent> events) {
    List<SpooledEvent> items = new ArrayList<>();
    for (int i = 0; i < events.size(); i++) {
      items.add(new SpooledEvent(i, events.get(i)));
    }
    return new SinkBatch(items);
  }

  private List<String> idsIn(Path partition) throws Exception {
    List<String> ids = new ArrayList<>();
    try (Stream<Path> files = Files.list(partition)) {
      for (Path f : files.sorted().toList()) {
        for (String line : Files.readAllLines(f)) {
          JsonNode n = JSON.readTree(line);
          ids.add(n.path("event_id").asText());
        }
      }
    }
    return ids;
  }

  @Test
  void interleavedOrganizationsAndDaysLandInTheirOwnPartitionsInOrder() throws Exception {
    FilesSink sink = new FilesSink(new FilesSinkConfig(true, dir, 1 << 30, true));
    sink.start();
    List<TrafficEvent> events = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      String org = i % 3 == 0 ? "acme" : "globex";
      long ts = (i / 7) % 2 == 0 ? DAY_1 : DAY_2;
      events.add(event(org, "e" + i, ts, "{\"n\":" + i + "}"));
    }
    sink.write(batch(events));

    for (String org : List.of("acme", "globex")) {
      for (String day : List.of("2026-05-28", "2026-05-29")) {
        List<String> expected =
            events.stream()
                .filter(e -> e.organizationId().equals(org))
                .filter(e -> e.timestamp() == (day.endsWith("28") ? DAY_1 : DAY_2))
                .map(TrafficEvent::eventId)
                .toList();
        assertThat(idsIn(dir.resolve("org=" + org).resolve("date=" + day)))
            .containsExactlyElementsOf(expected);
      }
    }
  }

  @Test
  void aBatchLargerThanTheStreamBufferIsStoredWhole() throws Exception {
    FilesSink sink = new FilesSink(new FilesSinkConfig(true, dir, 1 << 30, false));
    sink.start();
    String body = "{\"pad\":\"" + "x".repeat(2000) + "\"}";
    List<TrafficEvent> events = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      events.add(event("acme", "e" + i, DAY_1, body));
    }
    sink.write(batch(events));
    sink.write(batch(events.subList(0, 10)));

    List<String> ids = idsIn(dir.resolve("org=acme").resolve("date=2026-05-28"));
    assertThat(ids).hasSize(3010);
    assertThat(ids.subList(0, 3000))
        .containsExactlyElementsOf(events.stream().map(TrafficEvent::eventId).toList());
  }

  @Test
  void aFullFileIsClosedAndTheNextBatchStartsANewOne() throws Exception {
    FilesSink sink = new FilesSink(new FilesSinkConfig(true, dir, 10_000, false));
    sink.start();
    List<TrafficEvent> events = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      events.add(event("acme", "e" + i, DAY_1, "{\"pad\":\"" + "y".repeat(500) + "\"}"));
    }
    sink.write(batch(events));
    sink.write(batch(events));
    Path partition = dir.resolve("org=acme").resolve("date=2026-05-28");
    try (Stream<Path> files = Files.list(partition)) {
      assertThat(files.count()).isEqualTo(2);
    }
    assertThat(idsIn(partition)).hasSize(100);
  }

  static TrafficEvent event(String org, String id, long ts) {
    return event(org, id, ts, "{\"a\":1}");
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

  @ParameterizedTest(name = "direct I/O {0}")
  @ValueSource(booleans = {true, false})
  void aBatchThatFailsHalfWrittenLeavesOnlyWholeLinesAndItsRetryAppendsCleanly(boolean directIo)
      throws Exception {
    FilesSink sink = startedWithoutFsync(directIo);
    sink.write(batch(List.of(event("acme", "before", DAY_1))));
    Path partition = dir.resolve("org=acme").resolve("date=2026-05-28");
    Path file;
    try (Stream<Path> files = Files.list(partition)) {
      file = files.findFirst().orElseThrow();
    }
    String afterFirst = Files.readString(file);
    // The big event fills the writers' buffers (the lines' and the direct I/O one), so part of the
    // batch reaches the file before the bad one (headers that cannot be written as UTF-8) fails
    // it.
    TrafficEvent big = event("acme", "big", DAY_1, "{\"pad\":\"" + "z".repeat(400_000) + "\"}");
    TrafficEvent bad = unwritableHeaders("acme");

    assertThatThrownBy(() -> sink.write(batch(List.of(big, bad))))
        .isInstanceOf(SinkException.class)
        .satisfies(
            e -> assertThat(((SinkException) e).kind()).isEqualTo(SinkException.Kind.TRANSIENT));
    assertThat(Files.readString(file)).isEqualTo(afterFirst);

    sink.write(batch(List.of(event("acme", "after", DAY_1))));
    assertThat(idsIn(partition)).containsExactly("before", "after");
    assertThat(sink.writesDirect()).isEqualTo(directIo);
  }

  @Test
  void aBatchFailingInItsSecondFileLeavesItsFirstFileAsItWas() throws Exception {
    FilesSink sink = startedWithoutFsync(true);
    sink.write(batch(List.of(event("acme", "before", DAY_1))));
    Path acme = dir.resolve("org=acme").resolve("date=2026-05-28");
    // The batch's acme lines are written whole before globex's headers (a lone surrogate, which
    // cannot be written as UTF-8) fail the batch.
    TrafficEvent bad = unwritableHeaders("globex");
    TrafficEvent acmeToo = event("acme", "acme-too", DAY_1);

    assertThatThrownBy(() -> sink.write(batch(List.of(acmeToo, bad))))
        .isInstanceOf(SinkException.class);
    assertThat(idsIn(acme)).containsExactly("before");

    sink.write(batch(List.of(acmeToo, event("globex", "good", DAY_1))));
    assertThat(idsIn(acme)).containsExactly("before", "acme-too");
    assertThat(idsIn(dir.resolve("org=globex").resolve("date=2026-05-28"))).containsExactly("good");
  }

  /**
   * A file system that opens files for direct I/O but refuses the writes (here: aligned to 512
   * bytes where the JDK checks the file system's 4096) fails one append; the retry goes through the
   * page cache and every line is there once.
   */
  @Test
  void aFileSystemThatRefusesDirectWritesFallsBackToThePageCache() throws Exception {
    FilesSink sink =
        new FilesSink(
            new FilesSinkConfig(true, dir, 1 << 30, false), 512, FilesSink::directChannel);
    sink.start();
    List<TrafficEvent> events = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      events.add(event("acme", "e" + i, DAY_1, "{\"pad\":\"" + "q".repeat(i) + "\"}"));
    }
    assertThatThrownBy(() -> sink.write(batch(events)))
        .isInstanceOf(SinkException.class)
        .hasStackTraceContaining("multiple of the block size");
    assertThat(sink.writesDirect()).isFalse();

    sink.write(batch(events));
    assertThat(idsIn(dir.resolve("org=acme").resolve("date=2026-05-28")))
        .containsExactlyElementsOf(events.stream().map(TrafficEvent::eventId).toList());
  }

  /**
   * A file system that stops opening files for direct I/O after some appends: the next append goes
   * through the page cache, after the lines already in the file, not over them.
   */
  @Test
  void aRefusedDirectOpenAppendsThroughThePageCacheAfterTheLinesThere() throws Exception {
    int[] opens = {0};
    FilesSink sink =
        new FilesSink(
            new FilesSinkConfig(true, dir, 1 << 30, false),
            0,
            f -> {
              if (++opens[0] > 3) {
                throw new IOException("Operation not supported");
              }
              return FilesSink.directChannel(f);
            });
    sink.start();
    List<TrafficEvent> events = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      events.add(event("acme", "e" + i, DAY_1, "{\"pad\":\"" + "r".repeat(i % 97) + "\"}"));
    }
    for (int from = 0; from < 500; from += 100) {
      sink.write(batch(events.subList(from, from + 100)));
      assertThat(sink.writesDirect()).isEqualTo(from < 300);
    }
    assertThat(idsIn(dir.resolve("org=acme").resolve("date=2026-05-28")))
        .containsExactlyElementsOf(events.stream().map(TrafficEvent::eventId).toList());
  }

  /**
   * Batches of many sizes (one line, lines ending inside and across blocks, more than the direct
   * I/O buffer), for two organizations: written with direct I/O they make files byte for byte those
   * written through the page cache.
   */
  @Test
  void directIoWritesTheSameFilesAsThePageCache() throws Exception {
    java.util.Random random = new java.util.Random(7);
    List<List<TrafficEvent>> batches = new ArrayList<>();
    int id = 0;
    for (int b = 0; b < 60; b++) {
      int n = b % 10 == 9 ? 400 : 1 + random.nextInt(b % 3 == 0 ? 3 : 40);
      List<TrafficEvent> events = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String pad = "p".repeat(random.nextInt(b % 10 == 9 ? 2000 : 300));
        events.add(
            event(id % 4 == 0 ? "globex" : "acme", "e" + id++, DAY_1, "{\"pad\":\"" + pad + "\"}"));
      }
      batches.add(events);
    }
    Path direct = dir.resolve("direct");
    Path cached = dir.resolve("cached");
    for (boolean directIo : List.of(true, false)) {
      FilesSink sink =
          new FilesSink(
              new FilesSinkConfig(
                  true,
                  directIo ? direct : cached,
                  1 << 30,
                  true,
                  java.time.Duration.ZERO,
                  1,
                  directIo));
      sink.start();
      for (int b = 0; b < batches.size(); b++) {
        sink.write(batch(batches.get(b)));
        sink.preCommit(b, false);
      }
      assertThat(sink.writesDirect()).isEqualTo(directIo);
    }
    for (String org : List.of("acme", "globex")) {
      Path part = Path.of("org=" + org, "date=2026-05-28");
      String written = contents(direct.resolve(part));
      long events =
          batches.stream()
              .flatMap(List::stream)
              .filter(e -> e.organizationId().equals(org))
              .count();
      assertThat(written.lines().count()).isEqualTo(events);
      assertThat(stripTimes(written)).isEqualTo(stripTimes(contents(cached.resolve(part))));
    }
  }

  private static String contents(Path partition) throws Exception {
    StringBuilder sb = new StringBuilder();
    try (Stream<Path> files = Files.list(partition)) {
      for (Path f : files.sorted().toList()) {
        sb.append(Files.readString(f));
      }
    }
    return sb.toString();
  }

  /** The lines without their {@code ingested_at}, the one value that differs between two runs. */
  private static String stripTimes(String lines) {
    return lines.replaceAll("\"ingested_at\":\"[^\"]*\"", "");
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

  @Test
  void linesAreForcedToDiskOncePerManyBatchesAndTheSpoolIsToldHowFar() throws Exception {
    FilesSink sink =
        new FilesSink(
            new FilesSinkConfig(true, dir, 1 << 30, true, java.time.Duration.ofHours(1), 100));
    sink.start();
    List<TrafficEvent> events = new ArrayList<>();
    for (int i = 0; i < 106; i++) {
      events.add(event("acme", "e" + i, DAY_1, "{}"));
    }
    sink.write(batch(events.subList(0, 10)));
    assertThat(sink.preCommit(10, false)).as("written, not yet forced").isZero();
    sink.write(batch(events.subList(10, 105)));
    assertThat(sink.preCommit(105, false)).as("100 events reached").isEqualTo(105);
    assertThat(sink.syncs()).isEqualTo(1);
    sink.write(batch(events.subList(105, 106)));
    assertThat(sink.preCommit(106, false)).isEqualTo(105);
    assertThat(sink.preCommit(106, true)).as("a drain forces the rest").isEqualTo(106);
    assertThat(sink.syncs()).isEqualTo(2);
    assertThat(sink.preCommit(107, false)).as("nothing unforced").isEqualTo(107);
    assertThat(idsIn(dir.resolve("org=acme").resolve("date=2026-05-28"))).hasSize(106);
  }

  @Test
  void theIntervalForcesLinesThatWaitedLongEnough() throws Exception {
    FilesSink sink =
        new FilesSink(
            new FilesSinkConfig(true, dir, 1 << 30, true, java.time.Duration.ZERO, 1_000_000));
    sink.start();
    sink.write(batch(List.of(event("acme", "e1", DAY_1, "{}"))));
    assertThat(sink.preCommit(1, false)).isEqualTo(1);
    assertThat(sink.syncs()).isEqualTo(1);
  }
}
