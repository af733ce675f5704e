package io.trellis.ingress.replay;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.files.FilesSink;
import io.trellis.ingress.testing.CliProcess;
import io.trellis.ingress.testing.bigquery.FakeBigQuery;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code trellis-ingress replay --sink bigquery} as its own process against the local server that
 * speaks the Storage Write API (Google's client, unmodified): files written by the real files sink,
 * a replay killed with SIGKILL after BigQuery stored a chunk it had not yet checkpointed, a second
 * run, and every event_id counted in the stored rows.
 */
class BigQueryReplayIT {
  private static final String PROJECT = "replay-project";
  private static final LocalDate NOV_1 = LocalDate.parse("2026-11-01");
  private static final Duration RUN = Duration.ofMinutes(3);

  @TempDir Path dir;
  private FakeBigQuery bq;

  @BeforeEach
  void startFake() {
    bq = FakeBigQuery.start();
  }

  @AfterEach
  void stopFake() {
    bq.close();
  }

  @Test
  void aReplayKilledAfterAnUncheckpointedAppendAndRunAgainStoresEveryEventOnce() throws Exception {
    Set<String> november = ReplayFiles.month(dir, 100);
    // A second copy of 40 lines, as the files sink leaves after a crash before its fsync.
    List<TrafficEvent> copies = ReplayFiles.events("globex", NOV_1.plusDays(19), 40);
    try (FilesSink files = ReplayFiles.filesSink(dir)) {
      ReplayFiles.write(files, copies);
    }
    try (FilesSink again = ReplayFiles.filesSink(dir)) {
      ReplayFiles.write(again, copies);
    }
    copies.forEach(e -> november.add(e.eventId()));
    assertThat(files()).hasSizeGreaterThanOrEqualTo(50);

    // The 11th append is stored and never acknowledged; the replay is killed while it waits.
    bq.holdAcknowledgementAfter(10);
    try (CliProcess first = CliProcess.start(dir.resolve("run-1"), Map.of(), args())) {
      await("an append stored and not acknowledged", () -> bq.heldAppends() == 1);
      System.out.println("first run, killed:\n" + first.kill());
    }
    assertThat(bq.eventIdCounts(PROJECT, "trellis", "events")).hasSize(11 * 200);

    CliProcess.Result second = run(args());
    System.out.println("second run:\n" + second);

    assertThat(second.code()).as(second.toString()).isZero();
    assertThat(second.out())
        .contains("200 already in bigquery")
        .contains("40 duplicate line(s) in the files");
    Map<String, Integer> counts = bq.eventIdCounts(PROJECT, "trellis", "events");
    assertThat(counts.keySet()).isEqualTo(november);
    assertThat(counts.values()).allMatch(n -> n == 1);
    assertThat(bq.streamNames()).as("the second run continued the first run's stream").hasSize(1);
  }

  @Test
  void copiesOfReplayedLinesThatAppearLaterInTheSameDayAreSkippedByTheNextRun() throws Exception {
    List<TrafficEvent> day = ReplayFiles.events("acme", NOV_1, 100);
    try (FilesSink files = ReplayFiles.filesSink(dir)) {
      ReplayFiles.write(files, day);
    }
    assertThat(run(args("--to", "2026-11-01")).code()).isZero();
    // After a crash, the files sink writes the last lines again into a new file, then new events.
    List<TrafficEvent> later = new ArrayList<>(day.subList(70, 100));
    later.addAll(ReplayFiles.events("acme", NOV_1.plusDays(0), 20));
    try (FilesSink restarted = ReplayFiles.filesSink(dir)) {
      ReplayFiles.write(restarted, later);
    }

    CliProcess.Result r = run(args("--to", "2026-11-01"));

    assertThat(r.out()).contains(": 20 inserted, 0 already in bigquery, 30 duplicate line(s)");
    Set<String> ids = new HashSet<>();
    day.forEach(e -> ids.add(e.eventId()));
    later.forEach(e -> ids.add(e.eventId()));
    assertOnce(ids);
  }

  @Test
  void appendsRefusedForAWhileAreRetriedAndEveryEventIsStoredOnce() throws Exception {
    Set<String> sent = days(5, 100);
    bq.failAppendsAfter(3, 3, Status.Code.UNAVAILABLE);

    CliProcess.Result r = run(args("--batch-size", "100", "--to", "2026-11-05"));

    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.err()).contains("retrying");
    assertOnce(sent);
  }

  @Test
  void aReplayThatGivesUpSaysSoAndTheNextRunCompletesIt() throws Exception {
    Set<String> sent = days(5, 100);
    bq.failAppendsAfter(4, Integer.MAX_VALUE, Status.Code.UNAVAILABLE);

    CliProcess.Result failed =
        run(args("--batch-size", "100", "--to", "2026-11-05", "--attempts", "2"));

    assertThat(failed.code()).as(failed.toString()).isEqualTo(1);
    assertThat(failed.err())
        .contains("bigquery failed")
        .contains("run the same command again to continue from the checkpoint");
    assertThat(bq.eventIdCounts(PROJECT, "trellis", "events")).hasSize(400);

    bq.failAppends(0, Status.Code.UNAVAILABLE);
    CliProcess.Result again = run(args("--batch-size", "100", "--to", "2026-11-05"));

    assertThat(again.code()).as(again.toString()).isZero();
    assertThat(again.out()).contains(": 600 inserted, 0 already in bigquery");
    assertOnce(sent);
  }

  @Test
  void aStreamFinalizedBetweenRunsCostsAtMostTheChunkThatWasInFlight() throws Exception {
    Set<String> sent = days(5, 100);
    bq.holdAcknowledgementAfter(2);
    try (CliProcess first =
        CliProcess.start(
            dir.resolve("run-1"), Map.of(), args("--batch-size", "100", "--to", "2026-11-05"))) {
      await("an append stored and not acknowledged", () -> bq.heldAppends() == 1);
      first.kill();
    }
    bq.finalizeStream(bq.streamNames().iterator().next());

    CliProcess.Result r = run(args("--batch-size", "100", "--to", "2026-11-05"));

    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.err()).contains("may now be in bigquery twice (rows 200 to 299");
    Map<String, Integer> counts = bq.eventIdCounts(PROJECT, "trellis", "events");
    assertThat(counts.keySet()).isEqualTo(sent);
    assertThat(counts.values().stream().filter(n -> n == 2)).hasSize(100);
    assertThat(counts.values()).allMatch(n -> n <= 2);
  }

  @Test
  void aFinishedReplayRunAgainAppendsNothingButRestartAppendsEverything() throws Exception {
    Set<String> sent = days(1, 300);
    assertThat(run(args("--to", "2026-11-01")).code()).isZero();
    CliProcess.Result again = run(args("--to", "2026-11-01"));
    assertThat(again.out()).contains(": 0 inserted, 0 already in bigquery");
    assertOnce(sent);

    CliProcess.Result restart = run(args("--to", "2026-11-01", "--restart"));

    assertThat(restart.err()).contains("rows that earlier runs stored are stored twice");
    Map<String, Integer> counts = bq.eventIdCounts(PROJECT, "trellis", "events");
    assertThat(counts.keySet()).isEqualTo(sent);
    assertThat(counts.values()).allMatch(n -> n == 2);
  }

  @Test
  void deadLettersOfOneOrganizationAreReplayedWithTheirFields() throws Exception {
    Path deadLetters = dir.resolve("dead-letters/bigquery");
    Files.createDirectories(deadLetters);
    List<TrafficEvent> acme = ReplayFiles.events("acme", NOV_1.plusDays(3), 3);
    List<TrafficEvent> globex = ReplayFiles.events("globex", NOV_1.plusDays(3), 2);
    StringBuilder lines = new StringBuilder();
    List<TrafficEvent> all = new ArrayList<>(acme);
    all.addAll(globex);
    for (TrafficEvent e : all) {
      lines
          .append("{\"sink\":\"bigquery\",\"offset\":1,\"reason\":\"fixed by hand\",")
          .append("\"dead_lettered_at\":\"2026-11-05T00:00:00Z\",\"event\":")
          .append(ReplayFiles.line(dir, e))
          .append("}\n");
    }
    lines.append("{\"sink\":\"bigquery\",\"offset\":2,\"reason\":\"x\",\"raw_base64\":\"AAAA\"}\n");
    Files.writeString(deadLetters.resolve("2026-11-05.ndjson"), lines.toString());

    CliProcess.Result r = run(args("--dead-letters", "--org", "acme"));

    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.out()).contains("1 unreadable line(s)");
    List<Map<String, Object>> rows = bq.rows(PROJECT, "trellis", "events");
    assertThat(rows)
        .extracting(row -> row.get("event_id"))
        .containsExactlyInAnyOrderElementsOf(acme.stream().map(TrafficEvent::eventId).toList());
    assertThat(rows).allMatch(row -> row.get("organization_id").equals("acme"));
    assertThat(rows).allMatch(row -> row.get("event_type").equals("signup"));
    assertThat(rows).allMatch(row -> ((String) row.get("click_id")).startsWith("gclid-"));
  }

  /** The first {@code n} days of November for acme and globex. */
  private Set<String> days(int n, int perDay) throws Exception {
    Set<String> ids = new HashSet<>();
    try (FilesSink files = ReplayFiles.filesSink(dir)) {
      for (int day = 0; day < n; day++) {
        for (String org : List.of("acme", "globex")) {
          List<TrafficEvent> events = ReplayFiles.events(org, NOV_1.plusDays(day), perDay);
          ReplayFiles.write(files, events);
          events.forEach(e -> ids.add(e.eventId()));
        }
      }
    }
    return ids;
  }

  private List<Path> files() throws Exception {
    try (var s = Files.walk(dir.resolve("events"))) {
      return s.filter(p -> p.toString().endsWith(".ndjson")).toList();
    }
  }

  private void assertOnce(Set<String> ids) {
    Map<String, Integer> counts = bq.eventIdCounts(PROJECT, "trellis", "events");
    assertThat(counts.keySet()).isEqualTo(ids);
    assertThat(counts.values()).allMatch(n -> n == 1);
  }

  private String[] args(String... extra) {
    List<String> a =
        new ArrayList<>(
            List.of(
                "replay",
                "--data-dir",
                dir.toString(),
                "--sink",
                "bigquery",
                "--set",
                "bigquery.project=" + PROJECT,
                "--set",
                "bigquery.storage-endpoint=" + bq.storageEndpoint(),
                "--set",
                "bigquery.rest-endpoint=" + bq.restEndpoint(),
                "--set",
                "bigquery.append-timeout=60s",
                "--from",
                "2026-11-01"));
    List<String> more = List.of(extra);
    if (!more.contains("--to")) {
      a.addAll(List.of("--to", "2026-11-30"));
    }
    if (!more.contains("--batch-size")) {
      a.addAll(List.of("--batch-size", "200"));
    }
    a.addAll(more);
    return a.toArray(String[]::new);
  }

  private CliProcess.Result run(String... args) {
    try (CliProcess p = CliProcess.start(dir.resolve("runs"), Map.of(), args)) {
      return p.awaitExit(RUN);
    }
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + RUN.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }
}
