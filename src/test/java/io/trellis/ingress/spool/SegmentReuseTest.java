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
import io.trellis.ingress.sink.Sink;
import io.trellis.ingress.testing.Await;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Consumed segment files are reused for new segments; the old records left in a reused file must
 * never be read as new ones, after a clean stop or a crash, and the spare files must never cost an
 * append its room.
 */
class SegmentReuseTest {
  @TempDir Path dir;

  /** The meters of the spool opened last. */
  SimpleMeterRegistry metrics;

  private Path spoolDir() {
    return dir.resolve("spool");
  }

  private DiskSpool open(Path spool, SpoolConfig config, Sink... sinks) throws Exception {
    metrics = new SimpleMeterRegistry();
    return DiskSpool.open(spool, dir.resolve("dead-letters"), config, List.of(sinks), metrics);
  }

  private static void appendAll(DiskSpool spool, List<TrafficEvent> events) throws Exception {
    List<CompletableFuture<Void>> acks = new ArrayList<>();
    for (TrafficEvent e : events) {
      acks.add(spool.append(List.of(e)));
    }
    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get();
  }

  private static List<Path> files(Path spool, String suffix) {
    try (Stream<Path> s = Files.list(spool)) {
      return s.filter(p -> p.toString().endsWith(suffix)).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Object inode(Path p) throws Exception {
    return Files.getAttribute(p, "unix:ino");
  }

  /** Round one: events delivered and their segments consumed, leaving spare files. */
  private Set<Object> consumedInto(DiskSpool spool, TestSink sink, int n) throws Exception {
    return consumedInto(spool, sink, n, SegmentLog.MAX_SPARES);
  }

  /**
   * Waits until every sealed segment is consumed (only the active one is left, so no spare can
   * appear later) and at least {@code minSpares} were kept: a small budget keeps fewer, since a
   * segment consumed while the spool is over half full is deleted, and how full it was at that
   * moment depends on how far the sink lagged.
   */
  private Set<Object> consumedInto(DiskSpool spool, TestSink sink, int n, int minSpares)
      throws Exception {
    appendAll(spool, events("old", n));
    sink.awaitStored(n);
    Await.until(
        () ->
            files(spoolDir(), Segment.SUFFIX).size() == 1
                && files(spoolDir(), SegmentLog.SPARE_SUFFIX).size() >= minSpares,
        Duration.ofSeconds(30),
        () ->
            "segments: "
                + files(spoolDir(), Segment.SUFFIX)
                + ", spare files: "
                + files(spoolDir(), SegmentLog.SPARE_SUFFIX));
    Set<Object> inodes = new HashSet<>();
    for (Path p : files(spoolDir(), SegmentLog.SPARE_SUFFIX)) {
      inodes.add(inode(p));
    }
    return inodes;
  }

  @Test
  void aNewSegmentReusesAConsumedFileAndOnlyItsNewRecordsAreRead() throws Exception {
    TestSink sink = new TestSink("files");
    try (DiskSpool spool = open(spoolDir(), config(), sink)) {
      spool.start();
      Set<Object> spares = consumedInto(spool, sink, 2000);
      long spareBytes = 0;
      for (Path p : files(spoolDir(), SegmentLog.SPARE_SUFFIX)) {
        spareBytes += Files.size(p);
      }
      assertThat(SpoolStatus.read(dir).spareBytes()).isPositive().isEqualTo(spareBytes);
      // Enough to fill the active 64 KiB segment and start at least one more. The sink is held
      // so that no new segment is consumed, and renamed, while the files are listed.
      sink.gate = new Semaphore(0);
      appendAll(spool, events("new", 400));
      List<Object> segmentInodes = new ArrayList<>();
      for (Path p : files(spoolDir(), Segment.SUFFIX)) {
        segmentInodes.add(inode(p));
      }
      sink.gate.release(Integer.MAX_VALUE / 2);
      sink.awaitStored(2400);
      assertThat(segmentInodes).containsAnyElementsOf(spares);
      assertThat(sink.storedIds().subList(2000, 2400)).isEqualTo(ids("new", 0, 400));
      assertThat(sink.storedOffsets()).isEqualTo(LongStream.range(0, 2400).boxed().toList());
    }
    // A clean stop cuts the reused file to its last record: nothing old is left to scan.
    Map.Entry<Long, Path> last = SegmentLog.listSegments(spoolDir()).lastEntry();
    try (FileChannel ch = FileChannel.open(last.getValue())) {
      SegmentScanner scan =
          new SegmentScanner(
              ch, 1 << 20, Segment.readHeader(ch, last.getKey()), ch.size(), last.getKey() - 1);
      SegmentScanner.Status st;
      while ((st = scan.next()) == SegmentScanner.Status.RECORD) {}
      assertThat(st).isEqualTo(SegmentScanner.Status.END);
      assertThat(scan.position()).isEqualTo(ch.size());
    }
    try (DiskSpool again = open(spoolDir(), config(), new TestSink("files"))) {
      assertThat(again.nextOffset()).isEqualTo(2400);
    }
  }

  @Test
  void afterACrashRecoveryEndsAtTheLastNewRecordOfAReusedFile() throws Exception {
    TestSink sink = new TestSink("files");
    Path image = dir.resolve("crash-image");
    try (DiskSpool spool = open(spoolDir(), config(), sink)) {
      spool.start();
      consumedInto(spool, sink, 2000);
      sink.gate = new Semaphore(0);
      appendAll(spool, events("new", 400));
      // The files as a killed process leaves them: every append acknowledged, nothing closed.
      Files.createDirectories(image);
      try (Stream<Path> s = Files.walk(spoolDir())) {
        for (Path p : s.toList()) {
          Path to = image.resolve(spoolDir().relativize(p).toString());
          if (Files.isDirectory(p)) {
            Files.createDirectories(to);
          } else if (!p.getFileName().toString().equals(DiskSpool.LOCK_FILE)) {
            Files.copy(p, to);
          }
        }
      }
      sink.gate.release(1000);
    }
    TreeMap<Long, Path> segments = SegmentLog.listSegments(image);
    Path last = segments.lastEntry().getValue();
    long sizeBefore = Files.size(last);

    TestSink after = new TestSink("files");
    try (DiskSpool spool = open(image, config(), after)) {
      spool.start();
      after.awaitStored(400);
      after.awaitCaughtUp(metrics);
      assertThat(after.storedIds()).isEqualTo(ids("new", 0, 400));
      assertThat(spool.nextOffset()).isEqualTo(2400);
    }
    // The reused file held old bytes past its new records, and recovery cut them off.
    assertThat(Files.size(last)).isLessThan(sizeBefore);
  }

  @Test
  void aFrameHiddenInAnEventBodyIsNeverTakenForARecord() throws Exception {
    byte[] hidden = forgedFrame();
    TrafficEvent carrier = event("carrier", new String(hidden, StandardCharsets.ISO_8859_1));
    List<TrafficEvent> sent = new ArrayList<>(events("e", 40));
    sent.add(carrier);
    for (int i = 41; i < 60; i++) {
      sent.add(event("e" + i));
    }
    try (DiskSpool spool = open(spoolDir(), config(), new TestSink("files"))) {
      for (TrafficEvent e : sent) {
        spool.append(List.of(e)).get();
      }
    }
    Path segment = SegmentLog.listSegments(spoolDir()).lastEntry().getValue();
    byte[] stored = Files.readAllBytes(segment);
    assertThat(indexOf(stored, hidden))
        .as("the forged frame is in the segment verbatim")
        .isPositive();
    // Break the carrier's length field: recovery resyncs byte by byte through its body.
    long carrierAt = recordPositions(segment).get(40);
    overwrite(segment, carrierAt, new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff});

    TestSink sink = new TestSink("files");
    try (DiskSpool spool = open(spoolDir(), config(), sink)) {
      spool.start();
      sink.awaitStored(59);
      sink.awaitCaughtUp(metrics);
      assertThat(sink.stored)
          .extracting(SpooledEvent::event)
          .extracting(TrafficEvent::organizationId)
          .containsOnly("acme");
      List<String> expected = ids("e", 0, 40);
      expected.addAll(ids("e", 41, 60));
      assertThat(sink.storedIds()).isEqualTo(expected);
    }
    assertThat(Quarantine.count(spoolDir())).isEqualTo(1);
  }

  /**
   * A complete record frame for another organization's event, as a client knowing the frame layout
   * but not the segment's salt would forge it (checksum without a salt), made only of bytes below
   * 0x80 so that it survives as a string in an event body.
   */
  private static byte[] forgedFrame() {
    CRC32C crc = new CRC32C();
    for (int i = 0; i < 100_000; i++) {
      // Every string shorter than 128 bytes (a one-byte varint length) and a payload of
      // 256..383 bytes (frame length 0x000001xx): no length field has a byte of 0x80 or more.
      TrafficEvent fake =
          new TrafficEvent(
              "victim",
              "forged-" + i,
              0x0102030405060708L,
              "POST",
              "http://x/" + "p".repeat(60),
              "{}",
              "{}",
              "{\"secret\":true,\"pad\":\"" + "x".repeat(100) + "\"}",
              "10.0.0.1",
              "ua",
              "",
              "purchase",
              "",
              "",
              "",
              "",
              "");
      byte[] payload = EventCodec.encode(fake);
      ByteBuffer frame = ByteBuffer.allocate(RecordFrame.frameBytes(payload.length));
      RecordFrame.putHeader(frame, 30_000, payload, new byte[0], crc);
      frame.put(payload);
      byte[] bytes = frame.array();
      boolean ascii = true;
      for (byte b : bytes) {
        ascii &= b >= 0;
      }
      if (ascii) {
        return bytes;
      }
    }
    throw new AssertionError("no forged frame of ASCII bytes found");
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  @Test
  void spareFilesGiveWayWhenAnAppendNeedsTheRoom() throws Exception {
    long max = 512 * 1024;
    SpoolConfig small = config(Map.of("spool.max-bytes", "512KiB"));
    TestSink sink = new TestSink("files");
    try (DiskSpool spool = open(spoolDir(), small, sink)) {
      spool.start();
      consumedInto(spool, sink, 1000, 1);
      long spareBytes = 0;
      for (Path p : files(spoolDir(), SegmentLog.SPARE_SUFFIX)) {
        spareBytes += Files.size(p);
      }
      long free = max - spool.usedBytes();
      // One append that fits only if the spare files make room.
      List<TrafficEvent> big = new ArrayList<>();
      long total = 0;
      while (total <= free + spareBytes / 4) {
        TrafficEvent e = event("big" + big.size());
        big.add(e);
        total += RecordFrame.frameBytes(EventCodec.encode(e).length);
      }
      int n = big.size();
      assertThat(total).isGreaterThan(free).isLessThan(free + spareBytes);
      // The sink is held while the files are listed: once it consumes the append's first
      // segments the spool is less than half full again, and those become new spare files.
      sink.gate = new Semaphore(0);
      spool.append(big).get();
      assertThat(files(spoolDir(), SegmentLog.SPARE_SUFFIX)).isEmpty();
      sink.gate.release(Integer.MAX_VALUE / 2);
      sink.awaitStored(1000 + n);
      assertThat(sink.storedIds().subList(1000, 1000 + n)).isEqualTo(ids("big", 0, n));
    }
  }

  @Test
  void aVersionOneSegmentIsReadAndAppendedToAsItIs() throws Exception {
    Files.createDirectories(spoolDir());
    Path v1 = spoolDir().resolve(Segment.fileName(0));
    CRC32C crc = new CRC32C();
    ByteBuffer b = ByteBuffer.allocate(64 * 1024);
    b.put("TRSPOOL".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).putLong(0);
    for (int i = 0; i < 20; i++) {
      byte[] payload = EventCodec.encode(event("v1-" + i));
      RecordFrame.putHeader(b, i, payload, new byte[0], crc);
      b.put(payload);
    }
    Files.write(v1, Arrays.copyOf(b.array(), b.position()));

    TestSink sink = new TestSink("files");
    try (DiskSpool spool = open(spoolDir(), config(), sink)) {
      spool.start();
      appendAll(spool, events("v2-", 600));
      sink.awaitStored(620);
      List<String> expected = ids("v1-", 0, 20);
      expected.addAll(ids("v2-", 0, 600));
      assertThat(sink.storedIds()).isEqualTo(expected);
    }
    assertThat(Quarantine.count(spoolDir())).isZero();
  }
}
