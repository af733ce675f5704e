package io.trellis.ingress.replay;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplayCheckpointTest {
  @TempDir Path dir;

  @Test
  void aChunkRecordedBeforeItsWriteIsFoundByTheNextRunWithTheSinksNote() throws Exception {
    Path file = dir.resolve("replay/bigquery-x.json");
    ReplayCheckpoint c = ReplayCheckpoint.open(file);
    c.saveNote("{\"stream\":\"s1\"}");
    c.advance(Map.of("events/a.ndjson", 100L), 200);
    c.begin(
        new ReplayCheckpoint.Pending(
            Map.of("events/a.ndjson", 250L), 200, 150, "abc", List.of("id-1")));

    ReplayCheckpoint next = ReplayCheckpoint.open(file);

    assertThat(next.offset("events/a.ndjson")).isEqualTo(100);
    assertThat(next.offset("events/b.ndjson")).isZero();
    assertThat(next.rows()).isEqualTo(200);
    assertThat(next.note()).isEqualTo("{\"stream\":\"s1\"}");
    ReplayCheckpoint.Pending p = next.pending().orElseThrow();
    assertThat(p.ends()).containsExactly(Map.entry("events/a.ndjson", 250L));
    assertThat(p.firstRow()).isEqualTo(200);
    assertThat(p.rows()).isEqualTo(150);
    assertThat(p.ids()).isEqualTo("abc");
    assertThat(p.refused()).containsExactly("id-1");
    assertThat(Files.exists(file.resolveSibling(file.getFileName() + ".tmp"))).isFalse();
  }

  @Test
  void movingPastTheChunkClearsIt() throws Exception {
    Path file = dir.resolve("c.json");
    ReplayCheckpoint c = ReplayCheckpoint.open(file);
    c.begin(new ReplayCheckpoint.Pending(Map.of("f", 10L), 0, 3, "d", List.of()));
    c.advance(Map.of("f", 10L), 3);

    ReplayCheckpoint next = ReplayCheckpoint.open(file);

    assertThat(next.pending()).isEmpty();
    assertThat(next.offset("f")).isEqualTo(10);
    assertThat(next.rows()).isEqualTo(3);
  }

  @Test
  void aCheckpointOfFileOffsetsAloneIsRead() throws Exception {
    Path file = dir.resolve("old.json");
    Files.writeString(file, "{\"events/org=acme/date=2026-11-01/part-1-0.ndjson\":4096}");

    ReplayCheckpoint c = ReplayCheckpoint.open(file);

    assertThat(c.offset("events/org=acme/date=2026-11-01/part-1-0.ndjson")).isEqualTo(4096);
    assertThat(c.rows()).isZero();
    assertThat(c.note()).isEmpty();
    assertThat(c.pending()).isEmpty();
  }
}
