package io.trellis.ingress.sink.clickhouse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.ingress.auth.LocalKeyStore;
import io.trellis.ingress.event.Column;
import io.trellis.ingress.event.ColumnType;
import io.trellis.ingress.event.EventSchema;
import io.trellis.ingress.testing.ClickHouseServer;
import io.trellis.ingress.testing.ClickHouseServerExtension;
import io.trellis.ingress.testing.RunningService;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole service with the ClickHouse sink on: real HTTP in, real ClickHouse rows out. Every
 * server runs all of it (one subclass per server).
 */
@ExtendWith(ClickHouseServerExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ClickHouseServiceContract {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ClickHouseServer server;
  private String database;

  @TempDir Path dir;

  @BeforeAll
  void setUp(ClickHouseServer s) {
    server = s;
    database = s.newDatabase("service");
  }

  /** A key for the organization, created before the service starts so it is known at once. */
  private String key(String org) {
    LocalKeyStore store = LocalKeyStore.open(dir);
    try {
      return store.create(org, "test").key();
    } finally {
      store.close();
    }
  }

  private RunningService service(String table, Map<String, String> extra) {
    Map<String, String> m = new HashMap<>();
    m.put("clickhouse.url", server.url().toString());
    m.put("clickhouse.user", server.user());
    m.put("clickhouse.password", server.password());
    m.put("clickhouse.database", database);
    m.put("clickhouse.table", table);
    m.putAll(extra);
    return RunningService.start(dir, m);
  }

  /** The schema's event-time columns besides the receipt time: compared in whole seconds. */
  private static final List<String> EVENT_TIMES =
      EventRows.allButWriteTime(EventSchema.EVENTS).columns().stream()
          .filter(c -> c.type() == ColumnType.TIME && !c.name().equals("timestamp"))
          .map(Column::name)
          .toList();

  private List<JsonNode> rows(String table) {
    return rows(table, List.of());
  }

  /** The table's rows, with {@code C__seconds} for each of {@code times} (whole epoch seconds). */
  private List<JsonNode> rows(String table, List<String> times) {
    StringBuilder seconds = new StringBuilder();
    for (String c : times) {
      seconds.append(", toUnixTimestamp(").append(c).append(") AS ").append(c).append("__seconds");
    }
    return server.rows(
        "SELECT *, toString(event_id) AS id, toUnixTimestamp(timestamp) AS ts_seconds,"
            + " toUnixTimestamp(ingested_at) AS ingested_seconds"
            + seconds
            + " FROM "
            + database
            + "."
            + table
            + " ORDER BY timestamp, id");
  }

  private long count(String table) {
    return server.number("SELECT count() FROM " + database + "." + table);
  }

  private static void await(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  private static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + text, e);
    }
  }

  /** What one request sent, and what its stored event must hold. */
  private record Expected(
      String marker,
      String method,
      String url,
      Map<String, String> query,
      String body,
      String eventType,
      String clickId,
      String sessionId,
      String userAgent,
      String referer) {
    /** The X-Test header each request sends: "t-" and its marker without "m-", batches share it. */
    String xTest() {
      return marker.startsWith("m-batch") ? "t-batch" : "t-" + marker.substring(2);
    }
  }

  @Test
  void everyEndpointsEventsArriveWithEveryColumnAsSent() {
    String key = key("acme");
    try (RunningService svc = service("endpoints", Map.of())) {
      String suppliedId = UUID.randomUUID().toString();
      long before = System.currentTimeMillis();
      List<Expected> expected = new ArrayList<>();

      String eventsBody =
          "{\"event\":\"signup\",\"event_id\":\""
              + suppliedId
              + "\",\"session_id\":\"s-1\",\"gclid\":\"G-1\",\"marker\":\"m-events\","
              + "\"plan\":\"pro ✓\"}";
      HttpResponse<String> r =
          svc.send(
              HttpRequest.newBuilder(svc.uri("/events?utm_source=mail&marker=m-events"))
                  .header("Authorization", "Bearer " + key)
                  .header("Content-Type", "application/json")
                  .header("User-Agent", "UA-events/1.0")
                  .header("Referer", "https://ref.example/a?b=c")
                  .header("X-Test", "t-events")
                  .POST(HttpRequest.BodyPublishers.ofString(eventsBody)));
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(json(r.body()).get("event_id").asText()).isEqualTo(suppliedId);
      expected.add(
          new Expected(
              "m-events",
              "POST",
              "/events?utm_source=mail&marker=m-events",
              Map.of("utm_source", "mail", "marker", "m-events"),
              eventsBody,
              "signup",
              "G-1",
              "s-1",
              "UA-events/1.0",
              "https://ref.example/a?b=c"));

      String track =
          "/track?event=pageview&page=/home&source=google&gclid=G-2&sid=s-2&marker=m-track";
      r =
          svc.send(
              HttpRequest.newBuilder(svc.uri(track))
                  .header("Authorization", "Bearer " + key)
                  .header("User-Agent", "UA-track/2.0")
                  .header("X-Test", "t-track")
                  .GET());
      assertThat(r.statusCode()).isEqualTo(200);
      String trackId = json(r.body()).get("event_id").asText();
      Map<String, String> trackQuery = new LinkedHashMap<>();
      trackQuery.put("event", "pageview");
      trackQuery.put("page", "/home");
      trackQuery.put("source", "google");
      trackQuery.put("gclid", "G-2");
      trackQuery.put("sid", "s-2");
      trackQuery.put("marker", "m-track");
      expected.add(
          new Expected(
              "m-track",
              "GET",
              track,
              trackQuery,
              "",
              "pageview",
              "G-2",
              "s-2",
              "UA-track/2.0",
              ""));

      HttpResponse<byte[]> gif =
          svc.sendForBytes(
              HttpRequest.newBuilder(
                      svc.uri(
                          "/pixel?api_key=" + key + "&event=open&fbclid=F-3&marker=m-pixel-get"))
                  .header("User-Agent", "UA-pixel/3.0")
                  .header("X-Test", "t-pixel-get")
                  .GET());
      assertThat(gif.statusCode()).isEqualTo(200);
      expected.add(
          new Expected(
              "m-pixel-get",
              "GET",
              "/pixel?event=open&fbclid=F-3&marker=m-pixel-get",
              Map.of("event", "open", "fbclid", "F-3", "marker", "m-pixel-get"),
              "",
              "open",
              "F-3",
              "",
              "UA-pixel/3.0",
              ""));

      gif =
          svc.sendForBytes(
              HttpRequest.newBuilder(svc.uri("/pixel?marker=m-pixel-post&api_key=" + key))
                  .header("Content-Type", "text/plain")
                  .header("User-Agent", "UA-pixel/4.0")
                  .header("X-Test", "t-pixel-post")
                  .POST(HttpRequest.BodyPublishers.ofString("raw text, not JSON: a=1&b=2")));
      assertThat(gif.statusCode()).isEqualTo(200);
      expected.add(
          new Expected(
              "m-pixel-post",
              "POST",
              "/pixel?marker=m-pixel-post",
              Map.of("marker", "m-pixel-post"),
              "raw text, not JSON: a=1&b=2",
              "pixel",
              "",
              "",
              "UA-pixel/4.0",
              ""));

      String item1 = "{\"event\":\"click\",\"click_id\":\"C-4\",\"marker\":\"m-batch-1\"}";
      String item2 = "{\"type\":\"view\",\"sessionId\":\"s-5\",\"marker\":\"m-batch-2\"}";
      r =
          svc.send(
              HttpRequest.newBuilder(svc.uri("/batch"))
                  .header("Authorization", "Bearer " + key)
                  .header("Content-Type", "application/json")
                  .header("User-Agent", "UA-batch/5.0")
                  .header("X-Test", "t-batch")
                  .POST(HttpRequest.BodyPublishers.ofString("[" + item1 + ", " + item2 + "]")));
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(json(r.body()).get("accepted").asInt()).isEqualTo(2);
      expected.add(
          new Expected(
              "m-batch-1",
              "POST",
              "/batch",
              Map.of(),
              item1,
              "click",
              "C-4",
              "",
              "UA-batch/5.0",
              ""));
      expected.add(
          new Expected(
              "m-batch-2",
              "POST",
              "/batch",
              Map.of(),
              item2,
              "view",
              "",
              "s-5",
              "UA-batch/5.0",
              ""));
      long after = System.currentTimeMillis();

      await("6 rows are in ClickHouse", Duration.ofSeconds(30), () -> count("endpoints") == 6);
      List<JsonNode> stored = rows("endpoints", EVENT_TIMES);
      assertThat(stored).hasSize(6);

      Map<String, JsonNode> files = new HashMap<>();
      for (JsonNode e : svc.awaitStored(es -> es.size() == 6)) {
        files.put(e.get("event_id").asText(), e);
      }
      Set<String> seenMarkers = new HashSet<>();
      for (JsonNode row : stored) {
        String marker =
            row.get("body").asText().contains("\"marker\"")
                ? json(row.get("body").asText()).get("marker").asText()
                : json(row.get("query_params").asText()).get("marker").asText();
        Expected x = expected.stream().filter(e -> e.marker().equals(marker)).findFirst().get();
        seenMarkers.add(marker);
        assertThat(row.get("organization_id").asText()).isEqualTo("acme");
        assertThat(row.get("method").asText()).isEqualTo(x.method());
        // The full URL as received, the API key parameter removed.
        assertThat(row.get("url").asText()).isEqualTo(svc.uri(x.url()).toString());
        assertThat(json(row.get("query_params").asText())).isEqualTo(JSON.valueToTree(x.query()));
        assertThat(row.get("body").asText()).isEqualTo(x.body());
        assertThat(row.get("ip").asText()).isEqualTo("127.0.0.1");
        assertThat(row.get("user_agent").asText()).isEqualTo(x.userAgent());
        assertThat(row.get("referer").asText()).isEqualTo(x.referer());
        assertThat(row.get("event_type").asText()).isEqualTo(x.eventType());
        assertThat(row.get("click_id").asText()).isEqualTo(x.clickId());
        assertThat(row.get("session_id").asText()).isEqualTo(x.sessionId());
        JsonNode headers = json(row.get("headers").asText());
        assertThat(headers.path("x-test").asText()).isEqualTo(x.xTest());
        assertThat(headers.path("user-agent").asText()).isEqualTo(x.userAgent());
        assertThat(headers.has("authorization")).isFalse();
        assertThat(row.get("ts_seconds").asLong())
            .isBetween(Math.floorDiv(before, 1000), Math.floorDiv(after, 1000));
        assertThat(row.get("ingested_seconds").asLong())
            .isGreaterThanOrEqualTo(row.get("ts_seconds").asLong());
        assertThat(row.toString()).doesNotContain(key);

        // The same event, as the files sink stored it: every shared column is equal.
        JsonNode file = files.get(row.get("id").asText());
        assertThat(file).as("files sink has event %s", row.get("id")).isNotNull();
        for (String column : EventRows.allButWriteTime(EventSchema.EVENTS).names()) {
          switch (column) {
            case "event_id" -> {}
            case "timestamp" ->
                assertThat(java.time.Instant.parse(file.get("timestamp").asText()).getEpochSecond())
                    .isEqualTo(row.get("ts_seconds").asLong());
            case "headers", "query_params" ->
                assertThat(json(row.get(column).asText())).isEqualTo(file.get(column));
            default -> {
              if (EVENT_TIMES.contains(column)) {
                // Absent from the line when unknown; ClickHouse has no empty time: its zero.
                long fileSeconds =
                    file.has(column)
                        ? java.time.Instant.parse(file.get(column).asText()).getEpochSecond()
                        : 0;
                assertThat(row.get(column + "__seconds").asLong())
                    .as(column)
                    .isEqualTo(fileSeconds);
                continue;
              }
              assertThat(row.get(column).asText()).as(column).isEqualTo(file.path(column).asText());
            }
          }
        }
      }
      assertThat(seenMarkers).hasSize(6);
      assertThat(stored)
          .anySatisfy(row -> assertThat(row.get("id").asText()).isEqualTo(suppliedId));
      assertThat(stored).anySatisfy(row -> assertThat(row.get("id").asText()).isEqualTo(trackId));
    }
  }

  @Test
  void rowsCarryTheOrganizationOfTheKeyAndNothingElse() {
    String acme = key("acme");
    String globex = key("globex");
    try (RunningService svc = service("isolation", Map.of())) {
      Set<String> acmeIds = new HashSet<>();
      Set<String> globexIds = new HashSet<>();
      // acme claims to be globex in every way a client could.
      HttpResponse<String> r =
          svc.send(
              HttpRequest.newBuilder(svc.uri("/batch?organization_id=globex"))
                  .header("Authorization", "Bearer " + acme)
                  .header("X-Organization-Id", "globex")
                  .header("Content-Type", "application/json")
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "[{\"event\":\"click\",\"organization_id\":\"globex\"},"
                              + "{\"event\":\"click\",\"org\":\"globex\"},"
                              + "{\"event\":\"view\",\"organizationId\":\"globex\"}]")));
      assertThat(r.statusCode()).isEqualTo(200);
      json(r.body()).get("event_ids").forEach(id -> acmeIds.add(id.asText()));
      for (int i = 0; i < 2; i++) {
        r = svc.postJson("/events", globex, "{\"event\":\"signup\",\"organization_id\":\"acme\"}");
        assertThat(r.statusCode()).isEqualTo(200);
        globexIds.add(json(r.body()).get("event_id").asText());
      }
      await("5 rows are in ClickHouse", Duration.ofSeconds(30), () -> count("isolation") == 5);

      for (JsonNode row : rows("isolation")) {
        String id = row.get("id").asText();
        assertThat(row.get("organization_id").asText())
            .isEqualTo(acmeIds.contains(id) ? "acme" : globexIds.contains(id) ? "globex" : "?");
      }
      // The README's query: events per organization and type.
      List<JsonNode> perOrg =
          server.rows(
              "SELECT organization_id, event_type, count() AS events FROM "
                  + database
                  + ".isolation GROUP BY organization_id, event_type"
                  + " ORDER BY organization_id, event_type");
      // The count is a UInt64: quoted in JSON by older servers, a bare number by newer ones.
      assertThat(
              perOrg.stream()
                  .map(
                      row ->
                          row.get("organization_id").asText()
                              + "/"
                              + row.get("event_type").asText()
                              + "="
                              + row.get("events").asLong()))
          .containsExactly("acme/click=2", "acme/view=1", "globex/signup=2");
    }
  }

  @Test
  void clickHouseKilledMidLoadAndRestartedLosesNothing() throws Exception {
    assumeThat(server.managed()).as("only a server started by the tests can be killed").isTrue();
    String key = key("acme");
    try (RunningService svc = service("outage", Map.of())) {
      Set<String> acked = ConcurrentHashMap.newKeySet();
      AtomicBoolean sending = new AtomicBoolean(true);
      Thread sender =
          new Thread(
              () -> {
                StringBuilder body = new StringBuilder("[");
                for (int i = 0; i < 20; i++) {
                  body.append(i == 0 ? "" : ",")
                      .append("{\"event\":\"load\",\"i\":")
                      .append(i)
                      .append('}');
                }
                String batch = body.append(']').toString();
                while (sending.get()) {
                  HttpResponse<String> r = svc.postJson("/batch", key, batch);
                  if (r.statusCode() == 200) {
                    json(r.body()).get("event_ids").forEach(id -> acked.add(id.asText()));
                  }
                }
              },
              "load");
      sender.start();
      try {
        await("load reaches ClickHouse", Duration.ofSeconds(30), () -> count("outage") >= 2000);
        server.kill();
        long atKill = acked.size();
        await(
            "more events are acknowledged while ClickHouse is down",
            Duration.ofSeconds(30),
            () -> acked.size() >= atKill + 2000);
      } finally {
        server.restart();
      }
      Thread.sleep(500);
      sending.set(false);
      sender.join();

      await(
          "every acknowledged event is in ClickHouse",
          Duration.ofSeconds(90),
          () ->
              server.number("SELECT uniqExact(event_id) FROM " + database + ".outage")
                  >= acked.size());
      Set<String> stored = new HashSet<>();
      for (String line :
          server.query("SELECT toString(event_id) FROM " + database + ".outage").split("\n")) {
        if (!line.isBlank()) {
          stored.add(line.trim());
        }
      }
      assertThat(stored).containsAll(acked);
      long rows = count("outage");
      System.out.println(
          "ClickHouse "
              + server.version()
              + " killed mid-load and restarted: "
              + acked.size()
              + " events acknowledged, "
              + stored.size()
              + " distinct stored, 0 lost, "
              + (rows - stored.size())
              + " duplicate rows");
    }
  }

  @Test
  void aRowClickHouseRejectsGoesToTheDeadLettersAndItsNeighboursAreStored() throws Exception {
    // A table whose click_id holds at most 16 bytes: a longer one is refused by the server itself
    // (TOO_LARGE_STRING_SIZE), which is what the sink must classify as bad data.
    String table = "poison";
    server.query(
        "CREATE TABLE "
            + database
            + "."
            + table
            + " (organization_id String, event_id UUID, timestamp DateTime, method String,"
            + " url String, headers String, query_params String, body String, ip String,"
            + " user_agent String, referer String, event_type String, click_id FixedString(16),"
            + " session_id String, ingested_at DateTime DEFAULT now())"
            + " ENGINE = MergeTree() ORDER BY (organization_id, timestamp, event_id)");
    String key = key("acme");
    try (RunningService svc = service(table, Map.of("clickhouse.create-table", "false"))) {
      HttpResponse<String> r =
          svc.postJson(
              "/batch",
              key,
              "[{\"event\":\"a\"},{\"event\":\"b\"},"
                  + "{\"event\":\"poison\",\"click_id\":\"far-too-long-for-sixteen-bytes\"},"
                  + "{\"event\":\"c\"},{\"event\":\"d\"}]");
      assertThat(r.statusCode()).isEqualTo(200);
      List<String> ids = new ArrayList<>();
      json(r.body()).get("event_ids").forEach(id -> ids.add(id.asText()));
      String poisonId = ids.get(2);

      await("the four neighbours are stored", Duration.ofSeconds(60), () -> count(table) == 4);
      Set<String> stored = new HashSet<>();
      rows(table).forEach(row -> stored.add(row.get("id").asText()));
      assertThat(stored).containsExactlyInAnyOrder(ids.get(0), ids.get(1), ids.get(3), ids.get(4));

      Path deadLetters = svc.dataDir().resolve("dead-letters").resolve("clickhouse");
      await(
          "the poison row is dead-lettered",
          Duration.ofSeconds(30),
          () -> deadLetterText(deadLetters).contains(poisonId));
      assertThat(deadLetterText(deadLetters)).doesNotContain(ids.get(0)).doesNotContain(ids.get(4));
    }
  }

  @Test
  void threeHundredOrganizationsWithOneBadRowLandOnceAndOnlyTheBadRowIsDeadLettered()
      throws Exception {
    String table = "orgs_poison";
    server.query(
        "CREATE TABLE "
            + database
            + "."
            + table
            + " (organization_id String, event_id UUID, timestamp DateTime, method String,"
            + " url String, headers String, query_params String, body String, ip String,"
            + " user_agent String, referer String, event_type String, click_id FixedString(16),"
            + " session_id String, ingested_at DateTime DEFAULT now())"
            + " ENGINE = MergeTree() PARTITION BY (toYYYYMM(timestamp), organization_id)"
            + " ORDER BY (organization_id, timestamp, event_id)"
            + (ServerVersion.parse(server.version()).atLeast(22, 2)
                ? " SETTINGS non_replicated_deduplication_window = 1000"
                : ""));
    List<String> keys = new ArrayList<>();
    LocalKeyStore store = LocalKeyStore.open(dir);
    try {
      for (int i = 0; i < 300; i++) {
        keys.add(store.create(String.format("org-%03d", i), "test").key());
      }
    } finally {
      store.close();
    }
    // One spool batch for all 300 (more organizations than a current server takes in one insert).
    try (RunningService svc =
        service(
            table, Map.of("clickhouse.create-table", "false", "clickhouse.batch-max-age", "5s"))) {
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        String body =
            i == 150
                ? "{\"event\":\"poison\",\"click_id\":\"far-too-long-for-sixteen-bytes\"}"
                : "{\"event\":\"view\",\"n\":" + i + "}";
        HttpResponse<String> r = svc.postJson("/events", keys.get(i), body);
        assertThat(r.statusCode()).isEqualTo(200);
        ids.add(json(r.body()).get("event_id").asText());
      }
      String poisonId = ids.get(150);
      Path deadLetters = svc.dataDir().resolve("dead-letters").resolve("clickhouse");
      await(
          "the poison row is dead-lettered",
          Duration.ofSeconds(90),
          () -> deadLetterText(deadLetters).contains(poisonId));
      await("the 299 others are stored", Duration.ofSeconds(30), () -> count(table) >= 299);
      assertThat(count(table)).isEqualTo(299);
      assertThat(server.number("SELECT uniqExact(event_id) FROM " + database + "." + table))
          .isEqualTo(299);
      assertThat(server.number("SELECT uniqExact(organization_id) FROM " + database + "." + table))
          .isEqualTo(299);
      String letters = deadLetterText(deadLetters);
      assertThat(ids.stream().filter(letters::contains)).containsExactly(poisonId);
    }
  }

  private static String deadLetterText(Path dir) {
    if (!Files.isDirectory(dir)) {
      return "";
    }
    StringBuilder sb = new StringBuilder();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        sb.append(Files.readString(f));
      }
    } catch (IOException e) {
      return "";
    }
    return sb.toString();
  }
}
