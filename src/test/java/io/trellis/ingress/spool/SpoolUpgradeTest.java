package io.trellis.ingress.spool;

import static io.trellis.ingress.spool.Events.config;
import static io.trellis.ingress.spool.Events.event;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.trellis.ingress.event.EventCodec;
import io.trellis.ingress.event.SpooledEvent;
import io.trellis.ingress.testing.Await;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A spool written by the release at 69d18b5 (event records of versions 1 and 2), killed with
 * SIGKILL under load while its sink could not deliver: {@code dev/spool-upgrade-test.sh} made the
 * fixture, with the ids of every event that release acknowledged. This release must deliver each of
 * them, dead-letter none, and append its own records behind them.
 */
class SpoolUpgradeTest {
  private static final String FIXTURE = "/spool-upgrade/69d18b5/";

  @TempDir Path dir;

  @Test
  void aSpoolWrittenByTheEarlierReleaseDrainsFullyAfterTheUpgrade() throws Exception {
    Path spoolDir = dir.resolve("spool");
    Files.createDirectories(spoolDir);
    String segment = "00000000000000000000.segment";
    copy(FIXTURE + "spool/" + segment, spoolDir.resolve(segment));
    Set<String> acked = new HashSet<>(lines(FIXTURE + "acked-event-ids.txt"));
    assertThat(acked).hasSizeGreaterThan(100);

    TestSink sink = new TestSink("files");
    int total;
    SpoolConfig config =
        config(Map.of("spool.segment-size", "1MiB", "spool.max-record-size", "512KiB"));
    try (DiskSpool spool =
        DiskSpool.open(
            spoolDir,
            dir.resolve("dead-letters"),
            config,
            List.of(sink),
            new SimpleMeterRegistry())) {
      spool.start();
      spool.append(List.of(event("after-the-upgrade"))).get();
      // The segment may hold more records than were acknowledged (written, not yet answered, at
      // the kill): a count can be reached before the last event is; the last event comes last.
      Await.until(
          () -> sink.storedIds().contains("after-the-upgrade"),
          Duration.ofSeconds(20),
          () -> "stored " + sink.stored.size() + " of at least " + (acked.size() + 1));

      Set<String> delivered = new HashSet<>(sink.storedIds());
      assertThat(delivered).containsAll(acked).contains("after-the-upgrade");
      assertThat(sink.stored).hasSize(delivered.size());
      // Both earlier versions were in the spool: bodies that were not valid UTF-8 rode in
      // version 2 with their exact bytes.
      assertThat(sink.stored)
          .anySatisfy(e -> assertThat(e.event().bodyBase64()).isNotEmpty())
          .anySatisfy(e -> assertThat(e.event().bodyBase64()).isEmpty());
      SpooledEvent last = sink.stored.get(sink.stored.size() - 1);
      assertThat(last.eventId()).isEqualTo("after-the-upgrade");
      spool.append(Events.events("batch-after-", 50)).get();
      sink.awaitStored(delivered.size() + 50);
      total = sink.stored.size();
    }
    // The segment now holds the earlier release's event frames, then this release's batch
    // frames: a restart recovers it whole, and a reader from the start reads both.
    TestSink fresh = new TestSink("audit");
    try (DiskSpool spool =
        DiskSpool.open(
            spoolDir,
            dir.resolve("dead-letters"),
            config,
            List.of(fresh),
            new SimpleMeterRegistry())) {
      spool.start();
      fresh.awaitStored(total);
      Set<String> delivered = new HashSet<>(fresh.storedIds());
      assertThat(delivered)
          .containsAll(acked)
          .contains("after-the-upgrade", "batch-after-0", "batch-after-49");
      assertThat(fresh.storedIds()).isEqualTo(sink.storedIds());
    }
    assertThat(dir.resolve("dead-letters"))
        .satisfiesAnyOf(d -> assertThat(d).doesNotExist(), d -> assertThat(d).isEmptyDirectory());
    assertThat(EventCodec.VERSION).isEqualTo((byte) 3);
  }

  private static void copy(String resource, Path to) throws IOException {
    try (InputStream in = SpoolUpgradeTest.class.getResourceAsStream(resource)) {
      assertThat(in).as(resource).isNotNull();
      Files.copy(in, to);
    }
  }

  private static List<String> lines(String resource) throws IOException {
    try (InputStream in = SpoolUpgradeTest.class.getResourceAsStream(resource)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8)
          .lines()
          .filter(l -> !l.isBlank())
          .toList();
    }
  }
}
