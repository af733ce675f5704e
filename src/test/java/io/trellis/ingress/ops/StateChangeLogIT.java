package io.trellis.ingress.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.ingress.testing.CliProcess;
import io.trellis.ingress.testing.CliProcess.Result;
import io.trellis.ingress.testing.ClickHouseServer;
import io.trellis.ingress.testing.ClickHouseServerExtension;
import io.trellis.ingress.testing.FakeWarden;
import io.trellis.ingress.testing.FreePorts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The state changes an operator must see are logged once per change, not once per request or retry:
 * the real service as a process, its log in JSON, a real ClickHouse stopped and started, a spool
 * budget filled, a SIGKILL and a restart, a Warden that stops answering. Every stderr line of every
 * run is parsed as JSON; the lines of each kind are counted after the process has ended.
 */
@ExtendWith(ClickHouseServerExtension.class)
class StateChangeLogIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern KEY = Pattern.compile("trk_[a-z0-9]{12}_[A-Za-z0-9]{32}");
  private static final Pattern CAPTURE = Pattern.compile("(?m)^  capture  (http://\\S+)$");
  private static final Pattern ADMIN = Pattern.compile("(?m)^  admin    (http://\\S+)  ");
  private static final Pattern AUTH = Pattern.compile("(?m)^  auth .*\n");
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path dir;

  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  private ClickHouseServer clickhouse;
  private String database;

  @BeforeEach
  void setUp(ClickHouseServer server) {
    clickhouse = server;
    database = server.newDatabase("statelog");
  }

  /** A running {@code serve}: its capture URL and the demo key from the banner. */
  private record Serve(CliProcess process, String url, String admin, String key) {}

  /** Starts serve; {@code demoKey}: the key store is empty, so the banner ends with a new key. */
  private Serve serve(boolean demoKey, Map<String, String> env, String... sets) {
    List<String> args = new ArrayList<>(List.of("serve", "--data-dir", "data", "--port", "0"));
    args.addAll(List.of("--set", "admin.port=0"));
    for (String s : sets) {
      args.addAll(List.of("--set", s));
    }
    Map<String, String> all = new java.util.HashMap<>(env);
    all.put("TRELLIS_LOG_FORMAT", "json");
    CliProcess p = CliProcess.start(dir, all, args.toArray(String[]::new));
    // The banner ends with the demo key when the key store was empty, else with the auth line.
    String out = p.awaitStdout(s -> demoKey ? KEY.matcher(s).find() : AUTH.matcher(s).find(), WAIT);
    Matcher url = CAPTURE.matcher(out);
    assertThat(url.find()).isTrue();
    Matcher key = KEY.matcher(out);
    Matcher admin = ADMIN.matcher(out);
    assertThat(admin.find()).as(out).isTrue();
    return new Serve(p, url.group(1), admin.group(1), key.find() ? key.group() : null);
  }

  private int post(Serve s, String key, String body) {
    try {
      return http.send(
              HttpRequest.newBuilder(URI.create(s.url() + "/events"))
                  .header("Authorization", "Bearer " + key)
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(body))
                  .build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /**
   * Every metric family on /metrics has a HELP text: here with the ClickHouse sink and Warden,
   * whose meters a files-only start does not register.
   */
  private void assertEveryMetricHasHelp(Serve s) throws Exception {
    String metrics =
        http.send(
                HttpRequest.newBuilder(URI.create(s.admin() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    List<String> help = metrics.lines().filter(l -> l.startsWith("# HELP ")).toList();
    assertThat(help).isNotEmpty();
    assertThat(help)
        .as("every metric says what it counts")
        .allSatisfy(l -> assertThat(l).matches("# HELP \\S+ \\S.*"));
  }

  /** Every stderr line of a run, each parsed as one JSON object (fails on any other line). */
  private static List<JsonNode> logLines(Result r) {
    List<JsonNode> lines = new ArrayList<>();
    for (String line : r.errLines()) {
      try {
        JsonNode n = JSON.readTree(line);
        assertThat(n.isObject()).as(line).isTrue();
        assertThat(n.path("timestamp").asText()).as(line).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
        assertThat(n.path("message").asText()).as(line).doesNotContain("{}");
        lines.add(n);
      } catch (IOException e) {
        throw new AssertionError("not a JSON line: " + line, e);
      }
    }
    return lines;
  }

  private static List<JsonNode> ofEvent(List<JsonNode> lines, String event) {
    return lines.stream().filter(n -> n.path("event").asText().equals(event)).toList();
  }

  private static boolean logged(String stderr, String event) {
    return stderr.contains("\"event\":\"" + event + "\"");
  }

  private static String event(int i, int padding) {
    return "{\"event\":\"e" + i + "\",\"pad\":\"" + "x".repeat(padding) + "\"}";
  }

  @Test
  void aSinkDownAndBackAndTheSpoolBudgetReachedAndRecoveredAreOneLineEach() throws Exception {
    assumeThat(clickhouse.managed())
        .as("only a server started by the tests can be stopped")
        .isTrue();
    Serve s =
        serve(
            true,
            Map.of(),
            "files.enabled=false",
            "clickhouse.url=" + clickhouse.url(),
            "clickhouse.database=" + database,
            "clickhouse.batch-max-age=50ms",
            "spool.segment-size=64KiB",
            "limits.body-max=8KiB",
            "spool.max-record-size=16KiB",
            "spool.max-bytes=192KiB",
            "spool.retry-initial-backoff=50ms",
            "spool.retry-max-backoff=200ms");
    Result r;
    int accepted = 0;
    int refused = 0;
    try (CliProcess p = s.process()) {
      for (int i = 0; i < 5; i++) {
        assertThat(post(s, s.key(), event(i, 100))).isEqualTo(200);
        accepted++;
      }
      awaitRows(5);

      clickhouse.stop();
      try {
        // Fill the budget: every event waits in the spool while ClickHouse is down.
        for (int i = 0; refused < 30 && i < 10_000; i++) {
          int status = post(s, s.key(), event(i, 2000));
          if (status == 200) {
            accepted++;
          } else {
            assertThat(status).isEqualTo(503);
            refused++;
          }
        }
        assertThat(refused).isEqualTo(30);
        p.awaitStderr(e -> logged(e, "sink_down") && logged(e, "spool_budget_reached"), WAIT);
      } finally {
        clickhouse.restart();
      }
      p.awaitStderr(e -> logged(e, "sink_recovered"), WAIT);
      awaitRows(accepted);
      // Segments are freed once ClickHouse has everything: appends are accepted again.
      p.awaitStderr(e -> logged(e, "spool_budget_recovered"), WAIT);
      assertThat(post(s, s.key(), event(0, 100))).isEqualTo(200);
      accepted++;
      awaitRows(accepted);
      assertEveryMetricHasHelp(s);
      r = p.stop();
    }

    List<JsonNode> lines = logLines(r);
    List<JsonNode> down = ofEvent(lines, "sink_down");
    List<JsonNode> back = ofEvent(lines, "sink_recovered");
    List<JsonNode> full = ofEvent(lines, "spool_budget_reached");
    List<JsonNode> room = ofEvent(lines, "spool_budget_recovered");
    assertThat(down).as(r.err()).hasSize(1);
    assertThat(back).as(r.err()).hasSize(1);
    assertThat(full).as(r.err()).hasSize(1);
    assertThat(room).as(r.err()).hasSize(1);

    assertThat(down.get(0).path("level").asText()).isEqualTo("WARN");
    assertThat(down.get(0).path("sink").asText()).isEqualTo("clickhouse");
    assertThat(back.get(0).path("sink").asText()).isEqualTo("clickhouse");
    assertThat(back.get(0).path("down_seconds").asDouble()).isPositive();
    assertThat(back.get(0).path("failed_attempts").asLong()).isGreaterThanOrEqualTo(1);
    // At recovery ClickHouse was behind by everything accepted while it was down.
    assertThat(back.get(0).path("lag_events").asLong()).isEqualTo(accepted - 5 - 1);
    assertThat(back.get(0).path("message").asText())
        .startsWith("Sink clickhouse is back after ")
        .contains("lag at recovery: " + (accepted - 6) + " events");

    assertThat(full.get(0).path("max_bytes").asLong()).isEqualTo(192 * 1024);
    assertThat(full.get(0).path("used_bytes").asLong()).isGreaterThan(128 * 1024);
    assertThat(full.get(0).path("lag_events").asLong()).isEqualTo(accepted - 6);
    assertThat(full.get(0).path("message").asText())
        .startsWith("Spool disk budget reached: ")
        .contains("of 192 KiB used")
        .contains("clickhouse " + (accepted - 6) + " events");
    assertThat(room.get(0).path("refused_appends").asLong()).isEqualTo(refused);
    assertThat(room.get(0).path("full_seconds").asDouble()).isPositive();
    // The retries in between were counted, not logged.
    assertThat(lines).filteredOn(n -> n.path("message").asText().contains("retrying in")).isEmpty();
  }

  private void awaitRows(long n) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    long rows = -1;
    while (System.nanoTime() < deadline) {
      try {
        rows = clickhouse.number("SELECT count() FROM " + database + ".events");
      } catch (RuntimeException e) {
        // the table is not created yet, or the server is starting
      }
      if (rows == n) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("ClickHouse holds " + rows + " rows, expected " + n);
  }

  @Test
  void aRestartAfterSigkillLogsOneRecoveryLineWithWhatItFoundAndACleanRestartNone()
      throws Exception {
    // ClickHouse on a port where nothing listens: every event stays undelivered to it.
    String nowhere = "clickhouse.url=http://127.0.0.1:" + FreePorts.pick();
    Serve first = serve(true, Map.of(), nowhere, "spool.retry-max-backoff=200ms");
    for (int i = 0; i < 10; i++) {
      assertThat(post(first, first.key(), event(i, 100))).isEqualTo(200);
    }
    first.process().kill();
    // The write torn by the kill: 100 bytes of a record that never finished.
    Path segment;
    try (Stream<Path> files = Files.list(dir.resolve("data/spool"))) {
      segment =
          files.filter(f -> f.toString().endsWith(".segment")).sorted().reduce((a, b) -> b).get();
    }
    byte[] torn = new byte[100];
    Arrays.fill(torn, (byte) 0x5a);
    Files.write(segment, torn, StandardOpenOption.APPEND);

    Result second;
    try (CliProcess p = serve(false, Map.of(), nowhere).process()) {
      p.awaitStderr(e -> logged(e, "spool_recovered"), WAIT);
      second = p.stop();
    }
    List<JsonNode> recovered = ofEvent(logLines(second), "spool_recovered");
    assertThat(recovered).as(second.err()).hasSize(1);
    JsonNode line = recovered.get(0);
    assertThat(line.path("level").asText()).isEqualTo("WARN");
    assertThat(line.path("unclean_stop").asBoolean()).isTrue();
    assertThat(line.path("torn_tail_bytes").asLong()).isEqualTo(100);
    assertThat(line.path("records_scanned").asLong()).isEqualTo(10);
    assertThat(line.path("quarantined_bytes").asLong()).isZero();
    assertThat(line.path("undelivered_events").asLong()).isEqualTo(10);
    assertThat(line.path("message").asText())
        .startsWith("Spool recovered after an unclean stop: ")
        .contains("100 bytes of torn tail cut")
        .contains("clickhouse 10");

    // The second run stopped cleanly: the third start has nothing to report.
    Result third;
    try (CliProcess p = serve(false, Map.of(), nowhere).process()) {
      third = p.stop();
    }
    assertThat(ofEvent(logLines(third), "spool_recovered")).as(third.err()).isEmpty();
    assertThat(third.err()).contains("Spool ready");
  }

  @Test
  void aWardenOutageIsOneLineWhenItStartsAndOneWhenItEnds() throws Exception {
    String known = "wk_known_0123456789abcdef";
    try (FakeWarden warden = new FakeWarden().grant(known, "acme", "ingest")) {
      Serve s =
          serve(
              false,
              Map.of("TRELLIS_AUTH_WARDEN_URL", warden.url()),
              "auth.mode=warden",
              "auth.warden.retry-interval=200ms",
              "limits.auth-failures.per-minute=0");
      Result r;
      try (CliProcess p = s.process()) {
        assertThat(post(s, known, "{}")).isEqualTo(200);
        warden.refuse();
        int refused = 0;
        for (int i = 0; i < 20; i++) {
          // Unknown keys cannot be verified while Warden is down: 503, each a request, one line.
          if (post(s, "wk_unknown_" + i + "_0123456789", "{}") == 503) {
            refused++;
          }
        }
        assertThat(refused).isEqualTo(20);
        p.awaitStderr(e -> logged(e, "warden_down"), WAIT);
        warden.resume();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (post(s, "wk_unknown_again_0123456789", "{}") != 401) {
          assertThat(System.nanoTime()).as("Warden answers again").isLessThan(deadline);
          Thread.sleep(50);
        }
        p.awaitStderr(e -> logged(e, "warden_recovered"), WAIT);
        assertEveryMetricHasHelp(s);
        r = p.stop();
      }
      List<JsonNode> lines = logLines(r);
      assertThat(ofEvent(lines, "warden_down")).as(r.err()).hasSize(1);
      List<JsonNode> back = ofEvent(lines, "warden_recovered");
      assertThat(back).as(r.err()).hasSize(1);
      assertThat(back.get(0).path("refused").asLong()).isGreaterThanOrEqualTo(19);
      assertThat(back.get(0).path("down_seconds").asDouble()).isPositive();
      assertThat(r.err()).doesNotContain("wk_unknown_").doesNotContain(known);
    }
  }
}
