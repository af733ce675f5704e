package io.trellis.ingress.spool;

import static io.trellis.ingress.spool.Events.config;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.trellis.ingress.cli.Main;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.testing.Await;
import io.trellis.ingress.testing.TrafficEvents;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpoolStatusTest {
  @TempDir Path dir;

  private static List<TrafficEvent> eventsReceivedAgo(int n, long millisAgo) {
    List<TrafficEvent> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      TrafficEvent e = Events.event("e" + i);
      out.add(TrafficEvents.withTimestamp(e, System.currentTimeMillis() - millisAgo));
    }
    return out;
  }

  private static String cli(String... args) {
    PrintStream old = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      assertThat(Main.run(args)).isZero();
    } finally {
      System.setOut(old);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void statusShowsLagWhileTheSpoolIsInUseAndAfterItClosed() throws Exception {
    TestSink files = new TestSink("files");
    TestSink stuck = new TestSink("warehouse");
    stuck.gate = new Semaphore(0);
    DiskSpool spool =
        DiskSpool.open(
            dir.resolve("spool"),
            dir.resolve("dead-letters"),
            config(java.util.Map.of("spool.drain-timeout", "200ms")),
            List.of(files, stuck),
            new SimpleMeterRegistry());
    spool.start();
    spool.append(eventsReceivedAgo(100, 120_000)).get();
    files.awaitStored(100);
    Await.until(
        () -> {
          try {
            return SpoolStatus.read(dir).sinks().get(0).lagEvents() == 0;
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        },
        java.time.Duration.ofSeconds(20),
        () -> "files cursor not saved");

    SpoolStatus running = SpoolStatus.read(dir);
    assertThat(running.nextOffset()).isEqualTo(100);
    assertThat(running.segments()).isGreaterThanOrEqualTo(1);
    assertThat(running.bytes()).isGreaterThan(100 * 100);
    SpoolStatus.SinkStatus f = running.sinks().get(0);
    SpoolStatus.SinkStatus w = running.sinks().get(1);
    assertThat(f.name()).isEqualTo("files");
    assertThat(f.cursor()).isEqualTo(100);
    assertThat(f.lagSeconds()).isZero();
    assertThat(w.name()).isEqualTo("warehouse");
    assertThat(w.configured()).isTrue();
    assertThat(w.lagEvents()).isEqualTo(100);
    assertThat(w.lagSeconds()).isBetween(119.0, 600.0);

    String text = cli("spool", "status", "--data-dir", dir.toString());
    assertThat(text).contains("LAG_EVENTS").contains("offsets 0..100");
    assertThat(text.lines().filter(l -> l.startsWith("warehouse")).findFirst().orElseThrow())
        .contains(" yes ")
        .contains(" 100 ");

    spool.close();
    SpoolStatus stopped = SpoolStatus.read(dir);
    assertThat(stopped.sinks())
        .extracting(SpoolStatus.SinkStatus::lagEvents)
        .containsExactly(0L, 100L);
  }

  @Test
  void afterAWholeSegmentIsQuarantinedStatusAndMetricsShowNoPhantomLag() throws Exception {
    Path spoolDir = dir.resolve("spool");
    try (DiskSpool spool =
        DiskSpool.open(
            spoolDir,
            dir.resolve("dead-letters"),
            config(),
            List.of(new TestSink("files")),
            new SimpleMeterRegistry())) {
      Events.appendEach(spool, Events.events("e", 600));
    }
    java.util.TreeMap<Long, Path> segments = SegmentLog.listSegments(spoolDir);
    assertThat(segments).hasSizeGreaterThanOrEqualTo(2);
    long lastBase = segments.lastKey();
    // Header and first record destroyed: the segment cannot be read and goes to quarantine whole.
    byte[] garbage = new byte[Segment.HEADER_BYTES + RecordFrame.HEADER_BYTES];
    java.util.Arrays.fill(garbage, (byte) 0x5a);
    RecoveryTest.overwrite(segments.lastEntry().getValue(), 0, garbage);

    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    TestSink files = new TestSink("files");
    try (DiskSpool spool =
        DiskSpool.open(spoolDir, dir.resolve("dead-letters"), config(), List.of(files), metrics)) {
      spool.start();
      files.awaitStored((int) lastBase);
      Await.until(
          () -> metrics.get("trellis.sink.lag.events").gauge().value() == 0,
          java.time.Duration.ofSeconds(20),
          () ->
              "lag of files: "
                  + metrics.get("trellis.sink.lag.events").gauge().value()
                  + " events, with nothing left to deliver");
    }
    SpoolStatus status = SpoolStatus.read(dir);
    assertThat(status.quarantined()).isEqualTo(1);
    assertThat(status.sinks()).hasSize(1);
    assertThat(status.sinks().get(0).cursor()).isEqualTo(status.nextOffset());
    assertThat(status.sinks().get(0).lagEvents()).isZero();
    assertThat(cli("spool", "status", "--data-dir", dir.toString()))
        .contains("offsets " + status.oldestOffset() + ".." + status.nextOffset());
  }
}
