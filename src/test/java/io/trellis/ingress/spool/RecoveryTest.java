package io.trellis.ingress.spool;

import static io.trellis.ingress.spool.Events.config;
import static io.trellis.ingress.spool.Events.event;
import static io.trellis.ingress.spool.Events.events;
import static io.trellis.ingress.spool.Events.ids;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.Sink;
import io.trellis.ingress.testing.Await;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Garbage written into segment files must never stop the start, loop, or lose good records. */
class RecoveryTest {
  @TempDir Path dir;
  SimpleMeterRegistry metrics = new SimpleMeterRegistry();

  private Path spoolDir() {
    return dir.resolve("spool");
  }

  private DiskSpool open(Sink... sinks) throws Exception {
    return DiskSpool.open(
        spoolDir(), dir.resolve("dead-letters"), config(), List.of(sinks), metrics);
  }

  /** Appends events and closes without delivering; returns the segment files by base offset. */
  private TreeMap<Long, Path> spoolWith(List<TrafficEvent> events) throws Exception {
    try (DiskSpool spool = open(new TestSink("files"))) {
      Events.appendEach(spool, events);
    }
    return SegmentLog.listSegments(spoolDir());
  }

  /**
   * Waits until the file has the size: the spool's writer starts at open by checking that a record
   * can be written (it writes one past the end and cuts it off again), so a look at the size right
   * after the open can catch the file in the middle of that check.
   */
  private static void awaitSize(Path file, long size) {
    Await.until(
        () -> {
          try {
            return Files.size(file) == size;
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        },
        Duration.ofSeconds(20),
        () -> {
          try {
            return file + " has " + Files.size(file) + " bytes, not " + size;
          } catch (java.io.IOException e) {
            return e.toString();
          }
        });
  }

  /** Byte positions of the frames in a segment, read from the length fields. */
  static List<Long> recordPositions(Path segment) throws Exception {
    List<Long> out = new ArrayList<>();
    try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "r")) {
      long p = Segment.HEADER_BYTES;
      while (p + RecordFrame.HEADER_BYTES <= f.length()) {
        f.seek(p);
        out.add(p);
        p += RecordFrame.HEADER_BYTES + (f.readInt() & ~RecordFrame.BATCH_FLAG);
      }
    }
    return out;
  }

  static void overwrite(Path file, long position, byte[] bytes) throws Exception {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(position);
      f.write(bytes);
    }
  }

  private static void appendBytes(Path file, byte[] bytes) throws Exception {
    Files.write(file, bytes, StandardOpenOption.APPEND);
  }

  private long quarantined() throws Exception {
    return Quarantine.count(spoolDir());
  }

  @Test
  void garbageAfterTheLastRecordIsTruncatedAndTheSpoolStarts() throws Exception {
    Path last = spoolWith(events("e", 100)).lastEntry().getValue();
    long goodSize = Files.size(last);
    byte[] garbage = new byte[37];
    new java.util.Random(7).nextBytes(garbage);
    appendBytes(last, garbage);

    TestSink sink = new TestSink("files");
    try (DiskSpool spool = open(sink)) {
      awaitSize(last, goodSize);
      spool.start();
      spool.append(List.of(event("next"))).get();
      sink.awaitStored(101);
      assertThat(sink.storedIds().subList(0, 100)).isEqualTo(ids("e", 0, 100));
      assertThat(sink.stored.get(100).offset()).isEqualTo(100);
    }
    assertThat(quarantined()).isZero();
  }

  @Test
  void aTornLastRecordIsTruncated() throws Exception {
    Path last = spoolWith(events("e", 50)).lastEntry().getValue();
    long goodSize = Files.size(last);
    // A header announcing 500 bytes of payload, of which only 100 made it to disk.
    ByteBuffer torn = ByteBuffer.allocate(RecordFrame.HEADER_BYTES + 100);
    torn.putInt(500).putInt(12345).putLong(50);
    appendBytes(last, torn.array());

    TestSink sink = new TestSink("files");
    try (DiskSpool spool = open(sink)) {
      awaitSize(last, goodSize);
      spool.start();
      spool.append(List.of(event("next"))).get();
      sink.awaitStored(51);
      assertThat(sink.stored.get(50).offset()).isEqualTo(50);
      assertThat(sink.stored.get(50).event().eventId()).isEqualTo("next");
    }
  }

  @Test
  void aZeroFilledTailIsTruncated() throws Exception {
    Path last = spoolWith(events("e", 20)).lastEntry().getValue();
    long goodSize = Files.size(last);
    appendBytes(last, new byte[4096]);
    TestSink sink = new TestSink("files");
    try (DiskSpool spool = open(sink)) {
      spool.start();
      sink.awaitStored(20);
      awaitSize(last, goodSize);
    }
  }

  @Test
  void aCorruptRecordInTheMiddleOfTheLastSegmentIsQuarantinedAndTheRestDelivered()
      throws Exception {
    Path last = spoolWith(events("e", 100)).lastEntry().getValue();
    List<Long> positions = recordPositions(last);
    assertThat(positions).hasSize(100);
    // Damage the payload of record 40: its CRC no longer matches.
    overwrite(last, positions.get(40) + RecordFrame.HEADER_BYTES + 5, "GARBAGE".getBytes());

    TestSink sink = new TestSink("files");
    try (DiskSpool spool = open(sink)) {
      spool.start();
      sink.awaitStored(99);
      List<String> expected = ids("e", 0, 100);
      expected.remove("e40");
      assertThat(sink.storedIds()).isEqualTo(expected);
      assertThat(sink.storedOffsets()).doesNotContain(40L).contains(39L, 41L, 99L);
      spool.append(List.of(event("next"))).get();
      sink.awaitStored(100);
      assertThat(sink.stored.get(99).offset()).isEqualTo(100);
    }
    assertThat(quarantined()).isEqualTo(1);
    Path[] bin;
    try (var s = Files.list(spoolDir().resolve("quarantine"))) {
      bin = s.filter(p -> p.toString().endsWith(".bin")).toArray(Path[]::new);
    }
    assertThat(Files.size(bin[0])).isEqualTo(positions.get(41) - positions.get(40));
    assertThat(metrics.counter("trellis.spool.quarantined.ranges").count()).isEqualTo(1);

    // A second start finds the same bytes again but neither copies nor counts them twice.
    SimpleMeterRegistry again = new SimpleMeterRegistry();
    TestSink afterRestart = new TestSink("files");
    try (DiskSpool spool =
        DiskSpool.open(
            spoolDir(), dir.resolve("dead-letters"), config(), List.of(afterRestart), again)) {
      spool.start();
      spool.append(List.of(event("later"))).get();
      afterRestart.awaitStored(1);
      assertThat(afterRestart.storedIds()).containsExactly("later");
    }
    assertThat(quarantined()).isEqualTo(1);
    assertThat(again.counter("trellis.spool.quarantined.ranges").count()).isZero();
  }

  @Test
  void aCorruptLengthFieldInTheMiddleIsSkippedByResync() throws Exception {
    Path last = spoolWith(events("e", 60)).lastEntry().getValue();
    List<Long> positions = recordPositions(last);
    overwrite(last, positions.get(30), new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff});

    TestSink sink = new TestSink("files");
    try (DiskSpool spool = open(sink)) {
      spool.start();
      sink.awaitStored(59);
      assertThat(sink.storedIds()).doesNotContain("e30").contains("e29", "e31", "e59");
    }
    assertThat(quarantined()).isEqualTo(1);
  }

  @Test
  void corruptionInAnOlderSegmentIsFoundByTheReadersAndQuarantinedOnce() throws Exception {
    TreeMap<Long, Path> segments = spoolWith(events("e", 600));
    assertThat(segments).hasSizeGreaterThanOrEqualTo(2);
    Path first = segments.firstEntry().getValue();
    List<Long> positions = recordPositions(first);
    overwrite(first, positions.get(5) + RecordFrame.HEADER_BYTES + 3, "XXXX".getBytes());

    TestSink fast = new TestSink("files");
    TestSink other = new TestSink("warehouse");
    try (DiskSpool spool = open(fast, other)) {
      spool.start();
      fast.awaitStored(599);
      other.awaitStored(599);
      assertThat(fast.storedIds()).doesNotContain("e5").contains("e4", "e6", "e599");
      assertThat(other.storedIds()).isEqualTo(fast.storedIds());
    }
    assertThat(quarantined()).isEqualTo(1);
    assertThat(metrics.counter("trellis.spool.quarantined.ranges").count()).isEqualTo(1);
  }

  @Test
  void aTornSegmentHeaderDoesNotStopTheStart() throws Exception {
    TreeMap<Long, Path> segments = spoolWith(events("e", 10));
    long next = 10;
    // A crash right after a new segment file was created, before its header was complete.
    Path torn = spoolDir().resolve(Segment.fileName(next));
    Files.write(torn, new byte[] {'T', 'R', 'S'});

    TestSink sink = new TestSink("files");
    try (DiskSpool spool = open(sink)) {
      spool.start();
      spool.append(List.of(event("next"))).get();
      sink.awaitStored(11);
      assertThat(sink.storedOffsets()).isEqualTo(LongStream.rangeClosed(0, 10).boxed().toList());
    }
    // The torn file was replaced by a good segment starting at the same offset.
    Path replaced = SegmentLog.listSegments(spoolDir()).get(next);
    assertThat(replaced).isNotNull();
    assertThat(Files.size(replaced)).isGreaterThan(Segment.HEADER_BYTES);
    assertThat(segments.firstKey()).isZero();
  }

  @Test
  void anUnreadableOlderSegmentIsMovedAsideAndNewOffsetsStayAboveItsRecords() throws Exception {
    TreeMap<Long, Path> segments = spoolWith(events("e", 600));
    Path first = segments.firstEntry().getValue();
    // Header and first record both destroyed: nothing left to rebuild the header from.
    byte[] garbage = new byte[Segment.HEADER_BYTES + RecordFrame.HEADER_BYTES];
    java.util.Arrays.fill(garbage, (byte) 0x5a);
    overwrite(first, 0, garbage);

    TestSink sink = new TestSink("files");
    try (DiskSpool spool = open(sink)) {
      spool.start();
      spool.append(List.of(event("next"))).get();
      Long secondBase = segments.higherKey(segments.firstKey());
      sink.awaitStored(600 - secondBase.intValue() + 1);
      assertThat(sink.storedIds()).contains("e599", "next").doesNotContain("e0");
    }
    assertThat(Files.exists(first)).isFalse();
    assertThat(quarantined()).isEqualTo(1);
  }

  @Test
  void aFlippedByteInTheSaltOfTheLastSegmentLosesNoRecord() throws Exception {
    // Records of one length: their checksums alone leave half the salt open; the intact bytes of
    // the damaged salt decide the rest.
    Path last = spoolWith(events("e", 10)).lastEntry().getValue();
    flipByte(last, 16 + 3);

    TestSink sink = new TestSink("files");
    try (DiskSpool spool = open(sink)) {
      spool.start();
      spool.append(List.of(event("next"))).get();
      sink.awaitStored(11);
      assertThat(sink.storedIds()).isEqualTo(withNext(ids("e", 0, 10)));
      assertThat(sink.storedOffsets()).isEqualTo(LongStream.range(0, 11).boxed().toList());
    }
    assertThat(quarantined()).as("the damaged header bytes, kept").isEqualTo(1);
  }

  @Test
  void aFlippedByteInTheBaseOffsetOfTheLastSegmentLosesNoRecord() throws Exception {
    Path last = spoolWith(events("e", 10)).lastEntry().getValue();
    flipByte(last, 8 + 7);

    TestSink sink = new TestSink("files");
    try (DiskSpool spool = open(sink)) {
      spool.start();
      spool.append(List.of(event("next"))).get();
      sink.awaitStored(11);
      assertThat(sink.storedIds()).isEqualTo(withNext(ids("e", 0, 10)));
    }
  }

  @Test
  void garbageOverTheWholeHeaderOfAnOlderSegmentLosesNoRecord() throws Exception {
    TreeMap<Long, Path> segments = spoolWith(events("e", 600));
    assertThat(segments).hasSizeGreaterThanOrEqualTo(2);
    Path first = segments.firstEntry().getValue();
    byte[] garbage = new byte[Segment.HEADER_BYTES];
    new java.util.Random(11).nextBytes(garbage);
    overwrite(first, 0, garbage);

    TestSink sink = new TestSink("files");
    try (DiskSpool spool = open(sink)) {
      spool.start();
      sink.awaitStored(600);
      assertThat(sink.storedIds()).isEqualTo(ids("e", 0, 600));
      assertThat(sink.storedOffsets()).isEqualTo(LongStream.range(0, 600).boxed().toList());
    }
    assertThat(quarantined()).isEqualTo(1);
  }

  @Test
  void aSegmentWhoseHeaderAndRecordsAreAllDamagedDoesNotStopTheStart() throws Exception {
    Path last = spoolWith(events("e", 5)).lastEntry().getValue();
    for (long p : recordPositions(last)) {
      flipByte(last, p + RecordFrame.HEADER_BYTES);
    }
    flipByte(last, 16);

    TestSink sink = new TestSink("files");
    try (DiskSpool spool = open(sink)) {
      spool.start();
      spool.append(List.of(event("next"))).get();
      sink.awaitStored(1);
      assertThat(sink.storedIds()).containsExactly("next");
    }
  }

  private static List<String> withNext(List<String> ids) {
    List<String> out = new ArrayList<>(ids);
    out.add("next");
    return out;
  }

  private static void flipByte(Path file, long position) throws Exception {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(position);
      int b = f.read();
      f.seek(position);
      f.write(b ^ 0x40);
    }
  }
}
