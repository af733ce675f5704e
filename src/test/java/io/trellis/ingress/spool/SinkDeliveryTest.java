package io.trellis.ingress.spool;

import static io.trellis.ingress.spool.Events.config;
import static io.trellis.ingress.spool.Events.event;
import static io.trellis.ingress.spool.Events.events;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.Sink;
import io.trellis.ingress.sink.SinkException;
import io.trellis.ingress.testing.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SinkDeliveryTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  SimpleMeterRegistry metrics = new SimpleMeterRegistry();

  private DiskSpool open(SpoolConfig config, Sink... sinks) throws Exception {
    DiskSpool spool =
        DiskSpool.open(
            dir.resolve("spool"), dir.resolve("dead-letters"), config, List.of(sinks), metrics);
    spool.start();
    return spool;
  }

  private static void appendAll(DiskSpool spool, List<TrafficEvent> events, int perAppend)
      throws Exception {
    List<CompletableFuture<Void>> acks = new ArrayList<>();
    for (int i = 0; i < events.size(); i += perAppend) {
      acks.add(spool.append(events.subList(i, Math.min(events.size(), i + perAppend))));
    }
    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get();
  }

  private List<JsonNode> deadLetters(String sink) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    Path d = dir.resolve("dead-letters").resolve(sink);
    if (!Files.isDirectory(d)) {
      return out;
    }
    try (Stream<Path> files = Files.list(d)) {
      for (Path f : files.toList()) {
        for (String line : Files.readAllLines(f)) {
          out.add(JSON.readTree(line));
        }
      }
    }
    return out;
  }

  private double counter(String name, String sink) {
    return metrics.counter(name, "sink", sink).count();
  }

  @Test
  void aSinkThatFailsThreeTimesGetsTheBatchOnTheFourthAttempt() throws Exception {
    TestSink sink = new TestSink("files");
    sink.transientFailuresLeft.set(3);
    try (DiskSpool spool = open(config(), sink)) {
      appendAll(spool, events("e", 40), 40);
      sink.awaitStored(40);
      assertThat(sink.storedIds()).hasSize(40).doesNotHaveDuplicates();
      assertThat(sink.writes.get()).isEqualTo(4);
      assertThat(counter("trellis.sink.retries", "files")).isEqualTo(3);
      assertThat(
              metrics
                  .counter("trellis.sink.failures", "sink", "files", "kind", "transient")
                  .count())
          .isEqualTo(3);
    }
    assertThat(deadLetters("files")).isEmpty();
  }

  @Test
  void aPermanentlyBadRowIsIsolatedIntoTheDeadLettersWhileItsNeighboursAreStored()
      throws Exception {
    TestSink sink = new TestSink("files");
    sink.permanentlyBad = e -> e.body().contains("poison");
    List<TrafficEvent> batch = new ArrayList<>(events("ok", 20));
    batch.set(13, event("bad13", "{\"value\":\"poison\"}"));
    try (DiskSpool spool = open(config(Map.of("spool.batch-max-age", "1s")), sink)) {
      appendAll(spool, batch, 20);
      sink.awaitStored(19);
      Await.until(
          () -> counter("trellis.sink.dead_letters", "files") == 1,
          Duration.ofSeconds(20),
          () -> "no dead letter");
      assertThat(sink.storedIds()).hasSize(19).doesNotContain("bad13").contains("ok12", "ok14");
    }
    List<JsonNode> dead = deadLetters("files");
    assertThat(dead).hasSize(1);
    assertThat(dead.get(0).path("reason").asText()).contains("bad value in event bad13");
    assertThat(dead.get(0).path("offset").asLong()).isEqualTo(13);
    assertThat(dead.get(0).path("event").path("event_id").asText()).isEqualTo("bad13");
    assertThat(dead.get(0).path("event").path("body").asText()).isEqualTo("{\"value\":\"poison\"}");
    assertThat(dead.get(0).path("event").path("organization_id").asText()).isEqualTo("acme");
  }

  @Test
  void rowErrorsDeadLetterExactlyThoseRowsAndTheRestIsWrittenAgain() throws Exception {
    TestSink sink = new TestSink("clickhouse");
    sink.badRows = e -> e.eventId().equals("e3") || e.eventId().equals("e7");
    try (DiskSpool spool = open(config(Map.of("spool.batch-max-age", "1s")), sink)) {
      appendAll(spool, events("e", 10), 10);
      sink.awaitStored(8);
      Await.until(
          () -> counter("trellis.sink.dead_letters", "clickhouse") == 2,
          Duration.ofSeconds(20),
          () -> "dead letters missing");
      assertThat(sink.storedIds()).containsExactly("e0", "e1", "e2", "e4", "e5", "e6", "e8", "e9");
    }
    assertThat(deadLetters("clickhouse"))
        .extracting(n -> n.path("event").path("event_id").asText())
        .containsExactlyInAnyOrder("e3", "e7");
    assertThat(deadLetters("clickhouse"))
        .allMatch(n -> n.path("reason").asText().contains("bad column"));
  }

  @Test
  void aSlowSinkDoesNotHoldBackAFastOneAndCatchesUpFromDisk() throws Exception {
    TestSink fast = new TestSink("files");
    TestSink slow = new TestSink("warehouse");
    slow.gate = new Semaphore(0);
    try (DiskSpool spool = open(config(), fast, slow)) {
      appendAll(spool, events("e", 1500), 25);
      fast.awaitStored(1500);
      assertThat(slow.stored).isEmpty();
      // The slow sink pins the segments: nothing it has not seen may be deleted.
      assertThat(SegmentLog.listSegments(dir.resolve("spool"))).hasSizeGreaterThan(2);
      assertThat(metrics.get("trellis.sink.lag.events").tag("sink", "warehouse").gauge().value())
          .isEqualTo(1500);
      slow.gate.release(Integer.MAX_VALUE);
      slow.awaitStored(1500);
      assertThat(slow.storedIds()).isEqualTo(fast.storedIds());
      Await.until(
          () -> {
            try {
              return SegmentLog.listSegments(dir.resolve("spool")).size() <= 2;
            } catch (Exception e) {
              throw new AssertionError(e);
            }
          },
          Duration.ofSeconds(20),
          () -> "segments not deleted");
    }
  }

  @Test
  void aSinkStillFailingAtShutdownKeepsItsEventsForTheNextStart() throws Exception {
    TestSink down = new TestSink("files");
    down.transientFailuresLeft.set(Integer.MAX_VALUE);
    SpoolConfig quickDrain = config(Map.of("spool.drain-timeout", "300ms"));
    try (DiskSpool spool = open(quickDrain, down)) {
      appendAll(spool, events("e", 30), 10);
      Await.until(() -> down.writes.get() > 2, Duration.ofSeconds(20), () -> "no attempts");
    }
    assertThat(down.stored).isEmpty();
    TestSink up = new TestSink("files");
    try (DiskSpool spool = open(quickDrain, up)) {
      up.awaitStored(30);
      assertThat(up.storedIds()).hasSize(30).doesNotHaveDuplicates();
    }
  }

  @Test
  void closingDrainsWhatIsSpooledWithoutWaitingForBatchesToFill() throws Exception {
    TestSink sink = new TestSink("files");
    DiskSpool spool = open(config(Map.of("spool.batch-max-age", "1h")), sink);
    appendAll(spool, events("e", 10), 5);
    spool.close();
    assertThat(sink.storedIds()).hasSize(10);
  }

  @Test
  void aCursorOfASinkNoLongerConfiguredDoesNotPinTheLog() throws Exception {
    TestSink old = new TestSink("bigquery");
    old.gate = new Semaphore(0);
    // The held sink never drains: a short drain timeout closes the first spool without waiting.
    SpoolConfig quickDrain = config(Map.of("spool.drain-timeout", "300ms"));
    try (DiskSpool spool = open(quickDrain, new TestSink("files"), old)) {
      appendAll(spool, events("e", 10), 10);
    }
    Files.createDirectories(dir.resolve("spool/cursors"));
    Files.writeString(dir.resolve("spool/cursors/bigquery.cursor"), "0\n");
    TestSink files = new TestSink("files");
    try (DiskSpool spool = open(config(), files)) {
      appendAll(spool, events("f", 1500), 25);
      // "files" stored the first 10 in the first run; it resumes from its cursor.
      files.awaitStored(1500);
      assertThat(files.storedIds()).allMatch(id -> id.startsWith("f"));
      Await.until(
          () -> {
            try {
              return SegmentLog.listSegments(dir.resolve("spool")).size() <= 2;
            } catch (Exception e) {
              throw new AssertionError(e);
            }
          },
          Duration.ofSeconds(20),
          () -> "the unconfigured sink's cursor pins segments");
    }
  }

  /** A sink that makes its writes durable only when the test says so (preCommit). */
  private static final class LaterSink extends TestSink {
    volatile long durableUpTo;
    final java.util.concurrent.atomic.AtomicInteger failPreCommits =
        new java.util.concurrent.atomic.AtomicInteger();

    final java.util.concurrent.atomic.AtomicInteger preCommits =
        new java.util.concurrent.atomic.AtomicInteger();

    LaterSink(String name) {
      super(name);
    }

    @Override
    public long preCommit(long written, boolean flush) throws SinkException {
      preCommits.incrementAndGet();
      if (failPreCommits.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        throw SinkException.transientFailure("fsync failed", null);
      }
      return Math.min(written, durableUpTo);
    }
  }

  private long cursorOnDisk(String sink) throws Exception {
    Path f = dir.resolve("spool/cursors/" + sink + ".cursor");
    return Files.exists(f) ? Long.parseLong(Files.readAllLines(f).get(0).trim()) : -1;
  }

  @Test
  void theCursorMovesOnlyAsFarAsTheSinkSaysIsDurableAndARestartResumesThere() throws Exception {
    LaterSink first = new LaterSink("files");
    List<Long> offsets;
    try (DiskSpool spool = open(config(), first)) {
      appendAll(spool, events("e", 30), 10);
      first.awaitStored(30);
      offsets = first.storedOffsets();
      // Written, not durable: the cursor stays while the delivery keeps asking.
      int asked = first.preCommits.get();
      Await.until(
          () -> first.preCommits.get() >= asked + 3, Duration.ofSeconds(20), () -> "not asked");
      assertThat(cursorOnDisk("files")).isIn(-1L, offsets.get(0));
      first.durableUpTo = offsets.get(20);
      Await.until(
          () -> {
            try {
              return cursorOnDisk("files") == offsets.get(20);
            } catch (Exception e) {
              throw new AssertionError(e);
            }
          },
          Duration.ofSeconds(20),
          () -> "the cursor did not follow the durable offset");
      // Stops here as after a crash: the sink never makes the last ten durable.
    }
    assertThat(cursorOnDisk("files")).isEqualTo(offsets.get(20));

    TestSink second = new TestSink("files");
    try (DiskSpool spool = open(config(), second)) {
      second.awaitStored(10);
      assertThat(second.storedOffsets()).isEqualTo(offsets.subList(20, 30));
    }
  }

  @Test
  void aSinkThatCannotMakeItsWritesDurableGetsThemAllAgain() throws Exception {
    LaterSink sink = new LaterSink("files");
    sink.durableUpTo = Long.MAX_VALUE;
    sink.failPreCommits.set(1);
    try (DiskSpool spool = open(config(), sink)) {
      appendAll(spool, events("e", 20), 20);
      sink.awaitStored(40);
      // The first write's events again, from the cursor, then nothing more.
      assertThat(sink.storedIds().subList(0, 20)).isEqualTo(sink.storedIds().subList(20, 40));
      Await.until(
          () -> {
            try {
              return cursorOnDisk("files") == sink.storedOffsets().get(19) + 1;
            } catch (Exception e) {
              throw new AssertionError(e);
            }
          },
          Duration.ofSeconds(20),
          () -> "the cursor did not reach the end");
    }
  }
}
