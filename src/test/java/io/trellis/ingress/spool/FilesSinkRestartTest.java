package io.trellis.ingress.spool;

import static io.trellis.ingress.spool.Events.config;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.files.FilesSink;
import io.trellis.ingress.sink.files.FilesSinkConfig;
import io.trellis.ingress.testing.Await;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The files sink after a crash: a copy of the data directory taken while the service runs, with
 * lines written after the last saved cursor (what {@code kill -9} leaves on disk), is started
 * again, and the spool delivers those events a second time.
 */
class FilesSinkRestartTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long DAY_1 = 1_780_000_000_000L; // 2026-05-28
  private static final long DAY_2 = DAY_1 + 86_400_000L;

  @TempDir Path dir;

  /** Forced after 100 lines; the interval never comes in a test's time. */
  private static FilesSinkConfig files(Path data) {
    return new FilesSinkConfig(
        true, data.resolve("events"), 1 << 30, true, Duration.ofHours(1), 100);
  }

  private static DiskSpool open(Path data, FilesSink sink) throws Exception {
    return DiskSpool.open(
        data.resolve("spool"),
        data.resolve("dead-letters"),
        config(),
        List.of(sink),
        new SimpleMeterRegistry());
  }

  /** Events of two organizations and two days, interleaved: four files at once. */
  private static List<TrafficEvent> events(String prefix, int n) {
    List<TrafficEvent> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(
          new TrafficEvent(
              i % 2 == 0 ? "acme" : "globex",
              prefix + i,
              i % 3 == 0 ? DAY_1 : DAY_2,
              "POST",
              "http://localhost/events",
              "{}",
              "{}",
              "{\"n\":" + i + "}",
              "127.0.0.1",
              "",
              "",
              "pageview",
              "",
              "",
              "",
              "",
              ""));
    }
    return out;
  }

  @Test
  void linesWrittenAfterTheLastSavedCursorAreNotInTheFilesTwiceAfterACrash() throws Exception {
    Path live = dir.resolve("live");
    Path crashed = dir.resolve("crashed");
    List<TrafficEvent> durable = events("d", 100);
    List<TrafficEvent> pending = events("p", 50);
    try (DiskSpool spool = open(live, new FilesSink(files(live)))) {
      spool.start();
      durableThenUnforced(spool, live);
      assertThat(cursor(live)).as("the last 50 lines are not forced yet").isEqualTo(100);
      copy(live, crashed);
    }

    try (DiskSpool spool = open(crashed, new FilesSink(files(crashed)))) {
      spool.start(); // and closing drains: every event delivered and forced
    }
    assertThat(cursor(crashed)).isEqualTo(150);

    List<String> expected = new ArrayList<>();
    durable.forEach(e -> expected.add(e.eventId()));
    pending.forEach(e -> expected.add(e.eventId()));
    assertThat(lines(crashed)).containsExactlyInAnyOrderElementsOf(expected);
  }

  @Test
  void aFileShorterThanNotedIsLeftAsItIsAndTheRestIsRestored() throws Exception {
    Path live = dir.resolve("live");
    Path crashed = dir.resolve("crashed");
    try (DiskSpool spool = open(live, new FilesSink(files(live)))) {
      spool.start();
      durableThenUnforced(spool, live);
      copy(live, crashed);
    }
    // Someone cuts one file by hand to its first line, below what the cursor's note says.
    Path edited = ndjson(crashed).get(0);
    String first = Files.readAllLines(edited, StandardCharsets.UTF_8).get(0) + "\n";
    Files.writeString(edited, first, StandardCharsets.UTF_8);

    try (DiskSpool spool = open(crashed, new FilesSink(files(crashed)))) {
      spool.start(); // and closing drains: every event delivered and forced
    }
    assertThat(cursor(crashed)).isEqualTo(150);

    assertThat(Files.readString(edited, StandardCharsets.UTF_8)).isEqualTo(first);
    Map<String, Integer> counts = counts(crashed);
    assertThat(counts.values()).as("no event twice").containsOnly(1);
    assertThat(counts.keySet())
        .as("the 50 delivered again are there")
        .containsAll(events("p", 50).stream().map(TrafficEvent::eventId).toList());
  }

  @Test
  void aFileRemovedBeforeItsLinesWereForcedGetsThemAgainOnceAndDeliveryGoesOn() throws Exception {
    Path live = dir.resolve("live");
    try (DiskSpool spool = open(live, new FilesSink(files(live)))) {
      spool.start();
      durableThenUnforced(spool, live);
      // Someone moves a file away (a shipper, a cleanup) before its last lines were forced.
      Path removed = ndjson(live).get(0);
      Set<String> removedIds = new HashSet<>(idsOf(removed));
      Files.delete(removed);

      // The next 50 lines make the sink force its files: the removed one fails it.
      spool.append(events("q", 50)).get();
      Await.until(() -> cursor(live) == 200);

      Map<String, Integer> counts = counts(live);
      assertThat(counts.values()).as("no event twice").containsOnly(1);
      List<String> again = new ArrayList<>();
      events("p", 50).forEach(e -> again.add(e.eventId()));
      events("q", 50).forEach(e -> again.add(e.eventId()));
      assertThat(counts.keySet())
          .as("every event from the cursor on, the removed file's among them")
          .containsAll(again)
          .doesNotContainAnyElementsOf(
              removedIds.stream().filter(id -> id.startsWith("d")).toList());
    }
  }

  /**
   * 100 events ("d0".."d99") delivered and forced, then 50 more ("p0".."p49") written but not yet
   * forced.
   */
  private static void durableThenUnforced(DiskSpool spool, Path data) throws Exception {
    spool.append(events("d", 100)).get();
    Await.until(() -> cursor(data) == 100);
    spool.append(events("p", 50)).get();
    Await.until(() -> linesSoFar(data).size() == 150);
  }

  /** How many lines each event id has in the files. */
  private static Map<String, Integer> counts(Path data) {
    Map<String, Integer> counts = new HashMap<>();
    lines(data).forEach(id -> counts.merge(id, 1, Integer::sum));
    return counts;
  }

  private static long cursor(Path data) {
    try {
      Path f = data.resolve("spool/cursors/files.cursor");
      return Files.exists(f) ? Long.parseLong(Files.readAllLines(f).get(0).trim()) : -1;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<Path> ndjson(Path data) {
    try (Stream<Path> s = Files.walk(data.resolve("events"))) {
      return s.filter(p -> p.toString().endsWith(".ndjson")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The event ids of the lines of one file. */
  private static List<String> idsOf(Path file) throws IOException {
    return ids(Files.readString(file, StandardCharsets.UTF_8));
  }

  private static List<String> ids(String text) throws IOException {
    List<String> ids = new ArrayList<>();
    for (String line : text.lines().toList()) {
      ids.add(JSON.readTree(line).path("event_id").asText());
    }
    return ids;
  }

  /** The event ids of every line of every file; every byte must belong to a whole line. */
  private static List<String> lines(Path data) {
    return lines(data, false);
  }

  /**
   * The event ids of the whole lines of every file while the sink is still appending: a line it is
   * writing may be there in part (its whole blocks written, the rest not yet), without its newline.
   */
  private static List<String> linesSoFar(Path data) {
    return lines(data, true);
  }

  private static List<String> lines(Path data, boolean growing) {
    List<String> ids = new ArrayList<>();
    if (!Files.isDirectory(data.resolve("events"))) {
      return ids;
    }
    try {
      for (Path f : ndjson(data)) {
        String text = Files.readString(f, StandardCharsets.UTF_8);
        if (growing) {
          text = text.substring(0, text.lastIndexOf('\n') + 1);
        }
        ids.addAll(ids(text));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return ids;
  }

  /** The data directory as it is on disk now, as a kill would leave it. */
  private static void copy(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.sorted(Comparator.naturalOrder()).toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
  }
}
