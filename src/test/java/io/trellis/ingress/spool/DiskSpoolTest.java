package io.trellis.ingress.spool;

import static io.trellis.ingress.spool.Events.config;
import static io.trellis.ingress.spool.Events.event;
import static io.trellis.ingress.spool.Events.events;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.trellis.ingress.config.ConfigException;
import io.trellis.ingress.event.EventCodec;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.BatchLimits;
import io.trellis.ingress.sink.Sink;
import io.trellis.ingress.testing.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskSpoolTest {
  @TempDir Path dir;

  /** The meters of the spool opened last. */
  SimpleMeterRegistry metrics;

  private DiskSpool open(SpoolConfig config, Sink... sinks) throws Exception {
    metrics = new SimpleMeterRegistry();
    return DiskSpool.open(
        dir.resolve("spool"), dir.resolve("dead-letters"), config, List.of(sinks), metrics);
  }

  private static void appendAll(DiskSpool spool, List<TrafficEvent> events, int perAppend)
      throws Exception {
    List<CompletableFuture<Void>> acks = new ArrayList<>();
    for (int i = 0; i < events.size(); i += perAppend) {
      acks.add(spool.append(events.subList(i, Math.min(events.size(), i + perAppend))));
    }
    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get();
  }

  private long segmentFiles() {
    return files(".segment");
  }

  private long files(String suffix) {
    try (Stream<Path> s = Files.list(dir.resolve("spool"))) {
      return s.filter(p -> p.toString().endsWith(suffix)).count();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void acknowledgedEventsSurviveAReopenAndKeepTheirOffsets() throws Exception {
    List<TrafficEvent> sent = events("e", 1000);
    TestSink notYetStarted = new TestSink("files");
    try (DiskSpool spool = open(config(), notYetStarted)) {
      appendAll(spool, sent, 7);
    }
    assertThat(notYetStarted.stored).isEmpty();
    assertThat(segmentFiles()).isGreaterThan(1);

    TestSink sink = new TestSink("files");
    try (DiskSpool spool = open(config(), sink)) {
      spool.start();
      sink.awaitStored(1000);
      assertThat(sink.storedIds())
          .containsExactlyElementsOf(sent.stream().map(TrafficEvent::eventId).toList());
      assertThat(sink.storedOffsets())
          .containsExactlyElementsOf(LongStream.range(0, 1000).boxed().toList());
      assertThat(sink.stored.get(500).event()).isEqualTo(sent.get(500));
      spool.append(List.of(event("after"))).get();
      sink.awaitStored(1001);
      assertThat(sink.stored.get(1000).offset()).isEqualTo(1000);
    }
  }

  @Test
  void aRestartedSinkResumesFromItsCursor() throws Exception {
    TestSink first = new TestSink("files");
    try (DiskSpool spool = open(config(), first)) {
      spool.start();
      appendAll(spool, events("a", 300), 10);
      first.awaitStored(300);
    }
    TestSink second = new TestSink("files");
    try (DiskSpool spool = open(config(), second)) {
      spool.start();
      appendAll(spool, events("b", 50), 10);
      second.awaitStored(50);
      // A wrongly resumed reader would still be sending: look once the sink has caught up.
      second.awaitCaughtUp(metrics);
      assertThat(second.storedIds()).allMatch(id -> id.startsWith("b")).hasSize(50);
      assertThat(second.stored.get(0).offset()).isEqualTo(300);
    }
  }

  @Test
  void segmentsAreDeletedOrKeptAsSparesOnceEverySinkIsPastThem() throws Exception {
    TestSink sink = new TestSink("files");
    try (DiskSpool spool = open(config(), sink)) {
      spool.start();
      appendAll(spool, events("e", 2000), 20);
      sink.awaitStored(2000);
      // At most the active segment, one being left, and the spare files (64 KiB segments).
      // Cursors are written, and segments let go, after the sink has stored the events.
      Await.until(
          () -> spool.usedBytes() < (2 + SegmentLog.MAX_SPARES) * 64 * 1024 && segmentFiles() <= 2,
          Duration.ofSeconds(20),
          () -> "used " + spool.usedBytes() + ", segment files " + segmentFiles());
      assertThat(segmentFiles()).isLessThanOrEqualTo(2);
      assertThat(files(".spare")).isEqualTo(SegmentLog.MAX_SPARES);
    }
  }

  @Test
  void aSinkThatPrefersOtherBatchLimitsGetsThemWhileOthersKeepTheDefaults() throws Exception {
    TestSink files = new TestSink("files");
    TestSink bulk =
        new TestSink("bulk") {
          @Override
          public BatchLimits batchLimits(BatchLimits defaults) {
            return new BatchLimits(25, defaults.maxBytes(), Duration.ofSeconds(5));
          }
        };
    SpoolConfig c = config(Map.of("spool.batch-max-rows", "10", "spool.batch-max-age", "5s"));
    try (DiskSpool spool = open(c, files, bulk)) {
      appendAll(spool, events("e", 100), 100);
      spool.start();
      files.awaitStored(100);
      bulk.awaitStored(100);
      assertThat(files.batchSizes).containsOnly(10);
      assertThat(bulk.batchSizes).containsOnly(25);
    }
  }

  @Test
  void batchesCloseOnRowsAndBytes() throws Exception {
    TestSink sink = new TestSink("files");
    SpoolConfig c = config(Map.of("spool.batch-max-rows", "50", "spool.batch-max-age", "5s"));
    try (DiskSpool spool = open(c, sink)) {
      appendAll(spool, events("e", 500), 100);
      spool.start();
      sink.awaitStored(500);
      assertThat(sink.batchSizes).containsOnly(50);
    }
    TestSink bySize = new TestSink("files");
    SpoolConfig small =
        config(Map.of("spool.batch-max-bytes", "2KiB", "spool.batch-max-age", "5s"));
    // A 2 KiB batch holds only as many events as their encodings fit in it.
    int most = 2048 / EventCodec.encode(event("f0")).length + 1;
    assertThat(most).isLessThan(20);
    try (DiskSpool spool = open(small, bySize)) {
      spool.start();
      appendAll(spool, events("f", 100), 100);
      // Every batch but the last closes on its bytes; the last one, smaller, would wait for its
      // age (5 s): closing the spool drains it instead.
      bySize.awaitStored(100 - most);
    }
    assertThat(bySize.storedIds()).hasSize(100);
    assertThat(bySize.batchSizes).allMatch(n -> n >= 1 && n <= most);
  }

  @Test
  void anEventLargerThanARecordIsRefusedBeforeAnyAck() throws Exception {
    TestSink sink = new TestSink("files");
    try (DiskSpool spool = open(config(), sink)) {
      spool.start();
      TrafficEvent huge = event("huge", "x".repeat(20_000));
      CompletableFuture<Void> f = spool.append(List.of(event("ok"), huge));
      assertThatThrownBy(f::get)
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(RecordTooLargeException.class);
      spool.append(List.of(event("next"))).get();
      sink.awaitStored(1);
      sink.awaitCaughtUp(metrics);
      assertThat(sink.storedIds()).containsExactly("next");
    }
  }

  @Test
  void aSecondProcessCannotOpenTheSameSpool() throws Exception {
    try (DiskSpool spool = open(config(), new TestSink("files"))) {
      assertThatThrownBy(() -> open(config(), new TestSink("files")))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("in use");
    }
  }

  @Test
  void fsyncNoneAlsoPersistsAcrossAReopen() throws Exception {
    SpoolConfig none = config(Map.of("spool.fsync", "none"));
    try (DiskSpool spool = open(none, new TestSink("files"))) {
      appendAll(spool, events("e", 100), 1);
    }
    TestSink sink = new TestSink("files");
    try (DiskSpool spool = open(none, sink)) {
      spool.start();
      sink.awaitStored(100);
      assertThat(sink.storedOffsets())
          .containsExactlyElementsOf(LongStream.range(0, 100).boxed().toList());
    }
  }
}
