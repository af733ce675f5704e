package io.trellis.ingress.replay;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.cli.Main;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.files.FilesSink;
import io.trellis.ingress.testing.ClickHouseServer;
import io.trellis.ingress.testing.ClickHouseServerExtension;
import io.trellis.ingress.testing.RunningService;
import io.trellis.ingress.testing.ServiceJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code trellis-ingress replay} against a real ClickHouse engine: a month of files written by the
 * real files sink, a replay killed with SIGKILL midway, a second run, and every event_id counted
 * once in the table. One subclass per engine: the installed server ({@link ReplayIT}) and the 26.5
 * engine of chDB ({@link ChdbReplayIT}).
 */
@ExtendWith(ClickHouseServerExtension.class)
abstract class ReplayContract {
  private static final LocalDate NOV_1 = LocalDate.parse("2026-11-01");

  private static ClickHouseServer server;
  private static String database;

  @TempDir Path dir;

  @BeforeAll
  static void setUp(ClickHouseServer s) {
    server = s;
    database = s.newDatabase("replay");
  }

  @Test
  void aReplayKilledMidwayAndRunAgainStoresEveryEventOnce() throws Exception {
    Set<String> november = ReplayFiles.month(dir, 150);
    assertThat(november).hasSize(30 * 2 * 150);
    String table = "month";

    Process first = replayProcess(table);
    long seen = 0;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (seen == 0 && first.isAlive() && System.nanoTime() < deadline) {
      seen = count(table);
      Thread.sleep(20);
    }
    assertThat(first.isAlive()).as("the first replay is still running when killed").isTrue();
    first.destroyForcibly(); // SIGKILL
    assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
    long afterKill = count(table);
    assertThat(afterKill).isPositive().isLessThan(november.size());

    assertThat(replay(table)).isZero();

    assertThat(count(table)).isEqualTo(november.size());
    assertThat(server.number("SELECT uniqExact(event_id) FROM " + database + "." + table))
        .isEqualTo(november.size());
    assertThat(ids(table)).isEqualTo(november);
  }

  @Test
  void aReplayWithoutItsCheckpointInsertsNothingTwice() throws Exception {
    try (FilesSink files = filesSink()) {
      write(files, events("acme", NOV_1, 500));
    }
    String table = "again";
    assertThat(replay(table)).isZero();
    assertThat(count(table)).isEqualTo(500);

    // --restart forgets the checkpoint: only the event_id check stands between it and duplicates.
    assertThat(replay(table, "--restart")).isZero();
    assertThat(count(table)).isEqualTo(500);
  }

  @Test
  void aReplayReadsTheFilesOfARunningService() {
    String today = LocalDate.now(ZoneOffset.UTC).toString();
    try (RunningService service = RunningService.start(dir)) {
      String key = service.createKey("acme");
      Set<String> sent = new HashSet<>();
      for (int i = 0; i < 20; i++) {
        String answer =
            service
                .postJson("/events", key, "{\"event\":\"signup\",\"gclid\":\"g" + i + "\"}")
                .body();
        sent.add(RunningService.json(answer).path("event_id").asText());
      }
      service.awaitStored(es -> es.size() == 20);

      assertThat(
              Main.run(
                  args("live", "--from", today, "--to", today, "--org", "acme")
                      .toArray(String[]::new)))
          .isZero();

      assertThat(ids("live")).isEqualTo(sent);
    }
  }

  @Test
  void deadLettersOfOneOrganizationAreReplayedWithTheirFields() throws Exception {
    Path deadLetters = dir.resolve("dead-letters/clickhouse");
    Files.createDirectories(deadLetters);
    List<TrafficEvent> acme = events("acme", NOV_1.plusDays(3), 3);
    List<TrafficEvent> globex = events("globex", NOV_1.plusDays(3), 2);
    StringBuilder lines = new StringBuilder();
    for (TrafficEvent e : concat(acme, globex)) {
      lines
          .append("{\"sink\":\"clickhouse\",\"offset\":1,\"reason\":\"fixed by hand\",")
          .append("\"dead_lettered_at\":\"2026-11-05T00:00:00Z\",\"event\":")
          .append(line(e))
          .append("}\n");
    }
    lines.append(
        "{\"sink\":\"clickhouse\",\"offset\":2,\"reason\":\"x\",\"raw_base64\":\"AAAA\"}\n");
    Files.writeString(deadLetters.resolve("2026-11-05.ndjson"), lines.toString());

    assertThat(replay("dead", "--dead-letters", "--org", "acme")).isZero();

    List<JsonNode> rows =
        server.rows(
            "SELECT organization_id, toString(event_id) AS id, event_type, click_id, body FROM "
                + database
                + ".dead ORDER BY id");
    assertThat(rows)
        .extracting(r -> r.path("id").asText())
        .containsExactlyInAnyOrderElementsOf(acme.stream().map(TrafficEvent::eventId).toList());
    JsonNode first = rows.get(0);
    assertThat(first.path("organization_id").asText()).isEqualTo("acme");
    assertThat(first.path("event_type").asText()).isEqualTo("signup");
    assertThat(first.path("click_id").asText()).startsWith("gclid-");
    assertThat(first.path("body").asText()).contains("\"plan\":\"pro\"");
  }

  private FilesSink filesSink() {
    return ReplayFiles.filesSink(dir);
  }

  private static void write(FilesSink files, List<TrafficEvent> events) throws Exception {
    ReplayFiles.write(files, events);
  }

  private static List<TrafficEvent> events(String org, LocalDate day, int n) {
    return ReplayFiles.events(org, day, n);
  }

  private String line(TrafficEvent e) throws Exception {
    return ReplayFiles.line(dir, e);
  }

  private static <T> List<T> concat(List<T> a, List<T> b) {
    List<T> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  private List<String> args(String table, String... extra) {
    List<String> a =
        new ArrayList<>(
            List.of(
                "replay",
                "--data-dir",
                dir.toString(),
                "--sink",
                "clickhouse",
                "--set",
                "clickhouse.url=" + server.url(),
                "--set",
                "clickhouse.user=" + server.user(),
                "--set",
                "clickhouse.password=" + server.password(),
                "--set",
                "clickhouse.database=" + database,
                "--set",
                "clickhouse.table=" + table));
    if (!List.of(extra).contains("--from")) {
      a.addAll(List.of("--from", "2026-11-01", "--to", "2026-11-30"));
    }
    a.addAll(List.of(extra));
    return a;
  }

  private int replay(String table, String... extra) {
    return Main.run(args(table, extra).toArray(String[]::new));
  }

  /** The replay as its own JVM, so it can be killed with SIGKILL. */
  private Process replayProcess(String table) throws Exception {
    List<String> cmd = ServiceJvm.command(List.of(), args(table, "--batch-size", "200"));
    Path log = dir.resolve("first-replay.log");
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  private static long count(String table) {
    String exists =
        server
            .query(
                "SELECT count() FROM system.tables WHERE database = '"
                    + database
                    + "' AND name = '"
                    + table
                    + "'")
            .trim();
    return exists.equals("0") ? 0 : server.number("SELECT count() FROM " + database + "." + table);
  }

  private static Set<String> ids(String table) {
    Set<String> out = new HashSet<>();
    for (String l :
        server.query("SELECT toString(event_id) FROM " + database + "." + table).split("\n")) {
      if (!l.isBlank()) {
        out.add(l.trim());
      }
    }
    return out;
  }
}
