package io.trellis.ingress.spool;

import static io.trellis.ingress.spool.Events.config;
import static io.trellis.ingress.spool.Events.event;
import static io.trellis.ingress.spool.Events.events;
import static io.trellis.ingress.spool.Events.ids;
import static io.trellis.ingress.spool.RecoveryTest.overwrite;
import static io.trellis.ingress.spool.RecoveryTest.recordPositions;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.trellis.ingress.event.EventCodec;
import io.trellis.ingress.event.SpooledEvent;
import io.trellis.ingress.event.TrafficEvent;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One frame per append: how batch frames are written, read, recovered and quarantined. */
class BatchFrameTest {
  @TempDir Path dir;
  SimpleMeterRegistry metrics = new SimpleMeterRegistry();

  private Path spoolDir() {
    return dir.resolve("spool");
  }

  private DiskSpool open(TestSink... sinks) throws Exception {
    return DiskSpool.open(
        spoolDir(), dir.resolve("dead-letters"), config(), List.of(sinks), metrics);
  }

  private static List<byte[]> payloads(String prefix, int n) {
    List<byte[]> out = new ArrayList<>();
    for (TrafficEvent e : events(prefix, n)) {
      out.add(EventCodec.encode(e));
    }
    return out;
  }

  private SegmentLog openLog() throws Exception {
    return SegmentLog.open(
        spoolDir(), config(), new Quarantine(spoolDir(), metrics), new DiskBudget(64L << 20), 0);
  }

  /** Writes each list as one append, durable and published, as the writer thread does. */
  private void writeAppends(List<List<byte[]>> appends) throws Exception {
    try (SegmentLog log = openLog()) {
      for (List<byte[]> a : appends) {
        log.append(a);
        log.flush();
        log.sync();
        log.publish();
      }
    }
  }

  /** Every event a reader from {@code from} sees, as offset and event id. */
  private static List<String> readAll(SegmentLog log, long from) throws Exception {
    List<String> out = new ArrayList<>();
    try (LogReader r = new LogReader(log, from)) {
      while (r.next()) {
        out.add(r.offset() + ":" + EventCodec.decode(r.payloadCopy()).eventId());
      }
    }
    return out;
  }

  private static List<String> expected(String prefix, long firstOffset, int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add((firstOffset + i) + ":" + prefix + i);
    }
    return out;
  }

  @Test
  void aBatchOfAHundredEventsIsOneFrameAndEachEventKeepsItsOffset() throws Exception {
    TestSink sink = new TestSink("files");
    try (DiskSpool spool = open(sink)) {
      spool.start();
      spool.append(events("b", 100)).get();
      spool.append(List.of(event("single"))).get();
      sink.awaitStored(101);
      assertThat(sink.storedOffsets()).isEqualTo(LongStream.range(0, 101).boxed().toList());
      List<String> ids = ids("b", 0, 100);
      ids.add("single");
      assertThat(sink.storedIds()).isEqualTo(ids);
    }
    Path segment = SegmentLog.listSegments(spoolDir()).lastEntry().getValue();
    List<Long> frames = recordPositions(segment);
    assertThat(frames).hasSize(2);
    long batchBytes = RecordFrame.appendBytes(payloads("b", 100), config().maxRecordBytes());
    assertThat(frames.get(1) - frames.get(0)).isEqualTo(batchBytes);
  }

  @Test
  void anAppendLargerThanTheRecordSizeIsSplitIntoFramesOfConsecutiveOffsets() throws Exception {
    // 16 KiB records in the test configuration: 100 events of ~1.2 KiB need several frames.
    List<byte[]> big = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      big.add(EventCodec.encode(event("big" + i, "{\"pad\":\"" + "x".repeat(1000) + "\"}")));
    }
    writeAppends(List.of(big));
    long frames = 0;
    long bytes = 0;
    for (Path p : SegmentLog.listSegments(spoolDir()).values()) {
      frames += recordPositions(p).size();
      bytes += Files.size(p) - Segment.HEADER_BYTES;
    }
    assertThat(frames).isGreaterThanOrEqualTo(8);
    assertThat(bytes).isEqualTo(RecordFrame.appendBytes(big, config().maxRecordBytes()));
    try (SegmentLog log = openLog()) {
      List<String> read = readAll(log, 0);
      assertThat(read).hasSize(100).startsWith("0:big0").endsWith("99:big99");
    }
  }

  @Test
  void aCrashImageCutAtEveryByteOfABatchFrameEndsAtThePreviousFrame() throws Exception {
    writeAppends(List.of(payloads("a", 3), payloads("b", 4)));
    Path segment = SegmentLog.listSegments(spoolDir()).lastEntry().getValue();
    byte[] whole = Files.readAllBytes(segment);
    List<Long> frames = recordPositions(segment);
    assertThat(frames).hasSize(2);
    int batchStart = frames.get(1).intValue();
    assertThat(readAllFromImage(whole, whole.length))
        .isEqualTo(concat(expected("a", 0, 3), expected("b", 3, 4)));

    for (int cut = batchStart; cut < whole.length; cut++) {
      assertThat(readAllFromImage(whole, cut))
          .as("cut at byte %d of the frame", cut - batchStart)
          .isEqualTo(expected("a", 0, 3));
      assertThat(Files.size(segment)).as("cut at %d", cut).isEqualTo(batchStart);
    }
    assertThat(Quarantine.count(spoolDir())).isZero();
  }

  private List<String> readAllFromImage(byte[] whole, int length) throws Exception {
    Path segment = SegmentLog.listSegments(spoolDir()).lastEntry().getValue();
    Files.write(segment, Arrays.copyOf(whole, length));
    try (SegmentLog log = openLog()) {
      List<String> read = readAll(log, 0);
      assertThat(log.nextOffset()).isEqualTo(read.size());
      return read;
    }
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  @Test
  void aReaderStartingInsideABatchFrameSkipsTheFramesEarlierEvents() throws Exception {
    writeAppends(List.of(payloads("a", 10), payloads("b", 10)));
    try (SegmentLog log = openLog()) {
      assertThat(readAll(log, 4))
          .isEqualTo(concat(expected("a", 0, 10).subList(4, 10), expected("b", 10, 10)));
      assertThat(readAll(log, 19)).containsExactly("19:b9");
      assertThat(readAll(log, 20)).isEmpty();
    }
  }

  @Test
  void aSinkWhoseCursorIsInsideABatchFrameResumesAtItsCursor() throws Exception {
    writeAppends(List.of(payloads("a", 10), payloads("b", 10)));
    new CursorStore(spoolDir()).store("files", 13);
    TestSink sink = new TestSink("files");
    try (DiskSpool spool = open(sink)) {
      spool.start();
      spool.append(List.of(event("next"))).get();
      sink.awaitStored(8);
      assertThat(sink.storedOffsets()).isEqualTo(LongStream.range(13, 21).boxed().toList());
      List<String> ids = ids("b", 3, 10);
      ids.add("next");
      assertThat(sink.storedIds()).isEqualTo(ids);
    }
  }

  @Test
  void aDamagedBatchFrameIsQuarantinedWithTheOffsetsOfItsEvents() throws Exception {
    writeAppends(List.of(payloads("a", 10), payloads("b", 10), payloads("c", 10)));
    Path segment = SegmentLog.listSegments(spoolDir()).lastEntry().getValue();
    List<Long> frames = recordPositions(segment);
    overwrite(segment, frames.get(1) + 200, "GARBAGE".getBytes(StandardCharsets.US_ASCII));

    TestSink sink = new TestSink("files");
    try (DiskSpool spool = open(sink)) {
      spool.start();
      sink.awaitStored(20);
      assertThat(sink.storedIds()).isEqualTo(concat(ids("a", 0, 10), ids("c", 0, 10)));
      assertThat(sink.storedOffsets())
          .isEqualTo(
              LongStream.concat(LongStream.range(0, 10), LongStream.range(20, 30))
                  .boxed()
                  .toList());
    }
    Path quarantine = spoolDir().resolve(Quarantine.DIR);
    Path note = quarantine.resolve(segment.getFileName() + "@" + frames.get(1) + ".txt");
    assertThat(Files.readString(note)).contains("offsets=10..19", "CRC32C mismatch");
    Path bin = quarantine.resolve(segment.getFileName() + "@" + frames.get(1) + ".bin");
    assertThat(Files.size(bin)).isEqualTo(frames.get(2) - frames.get(1));
  }

  @Test
  void aDamagedBatchFrameInAnOlderSegmentIsQuarantinedByTheReaderWithItsOffsets() throws Exception {
    List<List<byte[]>> appends = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      appends.add(payloads("x" + i + "-", 10));
    }
    writeAppends(appends);
    var segments = SegmentLog.listSegments(spoolDir());
    assertThat(segments).hasSizeGreaterThanOrEqualTo(2);
    Path first = segments.firstEntry().getValue();
    List<Long> frames = recordPositions(first);
    overwrite(first, frames.get(2) + 30, "XXXX".getBytes(StandardCharsets.US_ASCII));

    try (SegmentLog log = openLog()) {
      List<String> read = readAll(log, 0);
      assertThat(read).hasSize(590).doesNotContain("20:x2-0", "29:x2-9").contains("19:x1-9");
      assertThat(read).contains("30:x3-0");
    }
    Path note =
        spoolDir()
            .resolve(Quarantine.DIR)
            .resolve(first.getFileName() + "@" + frames.get(2) + ".txt");
    assertThat(Files.readString(note)).contains("offsets=20..29");
  }

  @Test
  void theLiveTailHandsOutEveryEventOfABatchFrame() throws Exception {
    TestSink sink = new TestSink("files");
    try (DiskSpool spool = open(sink)) {
      spool.append(events("before", 3)).get();
      try (SpoolTail tail = spool.tail()) {
        spool.append(events("t", 25)).get();
        // Published before the append completed: one poll sees all of it.
        List<SpooledEvent> seen = new ArrayList<>();
        assertThat(tail.poll(100, seen::add)).isEqualTo(25);
        assertThat(seen)
            .extracting(SpooledEvent::offset)
            .isEqualTo(LongStream.range(3, 28).boxed().toList());
        assertThat(seen).extracting(SpooledEvent::eventId).isEqualTo(ids("t", 0, 25));
        assertThat(tail.position()).isEqualTo(28);
      }
    }
  }

  @Test
  void spoolStatusCountsTheEventsOfBatchFrames() throws Exception {
    writeAppends(List.of(payloads("a", 50), payloads("b", 30)));
    new CursorStore(spoolDir()).store("files", 20);
    SpoolStatus status = SpoolStatus.read(dir);
    assertThat(status.nextOffset()).isEqualTo(80);
    assertThat(status.sinks())
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.cursor()).isEqualTo(20);
              assertThat(s.lagEvents()).isEqualTo(60);
              assertThat(s.lagSeconds()).isGreaterThanOrEqualTo(0);
            });
  }

  @Test
  void aFlippedSaltByteOfASegmentOfBatchFramesLosesNoEvent() throws Exception {
    writeAppends(List.of(payloads("a", 7), payloads("b", 1), payloads("c", 12), payloads("d", 3)));
    Path segment = SegmentLog.listSegments(spoolDir()).lastEntry().getValue();
    try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
      f.seek(16 + 5);
      int b = f.read();
      f.seek(16 + 5);
      f.write(b ^ 0x10);
    }
    try (SegmentLog log = openLog()) {
      assertThat(log.recovery().headersRebuilt).isEqualTo(1);
      List<String> all = new ArrayList<>(expected("a", 0, 7));
      all.addAll(expected("b", 7, 1));
      all.addAll(expected("c", 8, 12));
      all.addAll(expected("d", 20, 3));
      assertThat(readAll(log, 0)).isEqualTo(all);
    }
  }
}
