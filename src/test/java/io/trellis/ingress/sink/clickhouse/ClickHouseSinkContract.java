package io.trellis.ingress.sink.clickhouse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.capture.Uuids;
import io.trellis.ingress.cli.ServiceSettings;
import io.trellis.ingress.enrich.EnrichConfig;
import io.trellis.ingress.enrich.EnrichedColumns;
import io.trellis.ingress.enrich.Enricher;
import io.trellis.ingress.event.Enrichments;
import io.trellis.ingress.event.EventSchema;
import io.trellis.ingress.event.SpooledEvent;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.SinkBatch;
import io.trellis.ingress.sink.SinkException;
import io.trellis.ingress.testing.ClickHouseServer;
import io.trellis.ingress.testing.ClickHouseServerExtension;
import io.trellis.ingress.testing.FreePorts;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The sink against a real ClickHouse: layout, stored values, failures. Every server runs all of it
 * (one subclass per server); what differs by version is asserted from the features the sink chose.
 */
@ExtendWith(ClickHouseServerExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ClickHouseSinkContract {
  private static final AtomicLong OFFSETS = new AtomicLong(1_000);

  private ClickHouseServer server;
  private String database;

  @BeforeAll
  void setUp(ClickHouseServer s) {
    server = s;
    database = s.newDatabase("sink");
  }

  private ClickHouseConfig config(Map<String, String> overrides) {
    Map<String, String> m = new HashMap<>();
    m.put("clickhouse.url", server.url().toString());
    m.put("clickhouse.user", server.user());
    m.put("clickhouse.password", server.password());
    m.put("clickhouse.database", database);
    m.putAll(overrides);
    return ClickHouseConfig.from(ServiceSettings.config(m));
  }

  private static ClickHouseSink started(ClickHouseConfig config) throws SinkException {
    ClickHouseSink sink = new ClickHouseSink(config);
    sink.start();
    return sink;
  }

  static TrafficEvent event(String org, String body) {
    long now = System.currentTimeMillis();
    return new TrafficEvent(
        org,
        Uuids.v7(now).toString(),
        now,
        "POST",
        "/events?utm_source=news&x=%C3%A9",
        "{\"content-type\":\"application/json\",\"x-quote\":\"say \\\"hi\\\"\"}",
        "{\"utm_source\":\"news\",\"x\":\"é\"}",
        body,
        "203.0.113.7",
        "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0",
        "https://example.com/page?a=1",
        "pageview",
        "gclid-abc",
        "session-42",
        "news",
        "cpc",
        "spring-sale");
  }

  static SinkBatch batch(List<TrafficEvent> events) {
    List<SpooledEvent> items = new ArrayList<>();
    for (TrafficEvent e : events) {
      items.add(new SpooledEvent(OFFSETS.getAndIncrement(), e));
    }
    return new SinkBatch(items);
  }

  private List<JsonNode> rows(String table, String where) {
    return server.rows(
        "SELECT *, toUnixTimestamp(timestamp) AS ts_seconds, toString(event_id) AS id FROM "
            + database
            + "."
            + table
            + " WHERE "
            + where
            + " ORDER BY event_id");
  }

  @Test
  void createsTheSeedTableWithTheLayoutChosenForTheServerVersion() throws Exception {
    try (ClickHouseSink sink = started(config(Map.of("clickhouse.table", "layout")))) {
      ClickHouseSchema schema = sink.schema();
      assertThat(schema.version().text()).isEqualTo(server.version());
      Map<String, String> types = new HashMap<>();
      for (JsonNode c :
          server.rows(
              "SELECT name, type FROM system.columns WHERE database = '"
                  + database
                  + "' AND table = 'layout'")) {
        types.put(c.get("name").asText(), c.get("type").asText());
      }
      boolean modern = schema.features().dateTime64();
      String time = modern ? "DateTime64(3)" : "DateTime";
      String small = schema.features().lowCardinality() ? "LowCardinality(String)" : "String";
      assertThat(types)
          .containsExactlyInAnyOrderEntriesOf(
              Map.ofEntries(
                  Map.entry("organization_id", "String"),
                  Map.entry("event_id", "UUID"),
                  Map.entry("timestamp", time),
                  Map.entry("method", small),
                  Map.entry("url", "String"),
                  Map.entry("headers", "String"),
                  Map.entry("query_params", "String"),
                  Map.entry("body", "String"),
                  Map.entry("body_base64", "String"),
                  Map.entry("ip", "String"),
                  Map.entry("user_agent", "String"),
                  Map.entry("referer", "String"),
                  Map.entry("event_type", small),
                  Map.entry("click_id", "String"),
                  Map.entry("session_id", "String"),
                  Map.entry("source", small),
                  Map.entry("medium", small),
                  Map.entry("campaign", "String"),
                  Map.entry("term", "String"),
                  Map.entry("content", "String"),
                  Map.entry("client_timestamp", time),
                  Map.entry("sent_at", time),
                  Map.entry("event_time", time),
                  Map.entry("event_time_source", small),
                  Map.entry("user_id", "String"),
                  Map.entry("anonymous_id", "String"),
                  Map.entry("referrer_class", small),
                  Map.entry("browser", small),
                  Map.entry("browser_version", small),
                  Map.entry("os", small),
                  Map.entry("device_class", small),
                  Map.entry("is_bot", small),
                  Map.entry("geo_country", small),
                  Map.entry("geo_region", "String"),
                  Map.entry("geo_city", "String"),
                  Map.entry("geo_asn", small),
                  Map.entry("privacy_signal", small),
                  Map.entry("ingested_at", time)));
      String ddl = server.query("SHOW CREATE TABLE " + database + ".layout").replace("\\n", " ");
      assertThat(ddl)
          .contains("ENGINE = MergeTree")
          .contains("PARTITION BY (toYYYYMM(timestamp), organization_id)")
          .contains("ORDER BY (organization_id, timestamp, event_id)");
      if (schema.features().codecs()) {
        assertThat(ddl).contains("CODEC(ZSTD(3))");
      } else {
        assertThat(ddl).doesNotContain("CODEC");
      }
      if (schema.features().deduplicationToken()) {
        assertThat(ddl).contains("non_replicated_deduplication_window = 1000");
      }
    }
  }

  @Test
  void monthPartitioningIsASetting() throws Exception {
    try (ClickHouseSink ignored =
        started(
            config(Map.of("clickhouse.table", "by_month", "clickhouse.partition-by", "month")))) {
      String ddl = server.query("SHOW CREATE TABLE " + database + ".by_month");
      assertThat(ddl)
          .contains("PARTITION BY toYYYYMM(timestamp)")
          .doesNotContain("organization_id)");
    }
  }

  @Test
  void aTableOfTheVersionWithoutAttributionColumnsGainsThemAndKeepsItsRows() throws Exception {
    // The table as the version before the attribution columns created it on this server: the
    // same schema without them.
    EventSchema before =
        new EventSchema(
            EventSchema.EVENTS.columns().stream()
                .filter(c -> !List.of("source", "medium", "campaign").contains(c.name()))
                .toList());
    ClickHouseConfig config = config(Map.of("clickhouse.table", "upgraded"));
    TrafficEvent oldEvent = event("org-old", "{\"old\":true}");
    try (ClickHouseSink previous = new ClickHouseSink(config, before)) {
      previous.start();
      previous.write(batch(List.of(oldEvent)));
    }
    assertThat(columnsOf("upgraded").stream().map(c -> c.split(" ")[0]).toList())
        .doesNotContain("source", "medium", "campaign");

    TrafficEvent newEvent = event("org-new", "{\"new\":true}");
    try (ClickHouseSink sink = started(config)) {
      sink.write(batch(List.of(newEvent)));
    }
    try (ClickHouseSink fresh = started(config(Map.of("clickhouse.table", "fresh")))) {
      assertThat(columnsOf("upgraded")).isEqualTo(columnsOf("fresh"));
    }
    assertThat(columnsOf("upgraded").stream().map(c -> c.split(" ")[0]).toList())
        .containsSubsequence("session_id", "source", "medium", "campaign", "ingested_at");
    Map<String, JsonNode> byOrg = new HashMap<>();
    for (JsonNode r : rows("upgraded", "1")) {
      byOrg.put(r.get("organization_id").asText(), r);
    }
    assertThat(byOrg).containsOnlyKeys("org-old", "org-new");
    JsonNode o = byOrg.get("org-old");
    assertThat(o.get("id").asText()).isEqualTo(oldEvent.eventId());
    assertThat(o.get("body").asText()).isEqualTo(oldEvent.body());
    assertThat(o.get("session_id").asText()).isEqualTo(oldEvent.sessionId());
    assertThat(o.get("source").asText()).isEmpty();
    assertThat(o.get("campaign").asText()).isEmpty();
    JsonNode n = byOrg.get("org-new");
    assertThat(n.get("id").asText()).isEqualTo(newEvent.eventId());
    assertThat(n.get("body").asText()).isEqualTo(newEvent.body());
    assertThat(n.get("source").asText()).isEqualTo("news");
    assertThat(n.get("medium").asText()).isEqualTo("cpc");
    assertThat(n.get("campaign").asText()).isEqualTo("spring-sale");
  }

  @Test
  void aTableOfTheVersionWithoutEnrichmentGainsItsColumnsAndKeepsItsRows() throws Exception {
    Enrichments.install(Enricher.open(EnrichConfig.defaults()));
    EventSchema before =
        new EventSchema(
            EventSchema.EVENTS.columns().stream()
                .filter(c -> !EnrichedColumns.NAMES.contains(c.name()))
                .toList());
    ClickHouseConfig config = config(Map.of("clickhouse.table", "enriched"));
    TrafficEvent oldEvent = event("org-old", "{\"userId\":\"old-user\"}");
    try (ClickHouseSink previous = new ClickHouseSink(config, before)) {
      previous.start();
      previous.write(batch(List.of(oldEvent)));
    }
    assertThat(columnsOf("enriched").stream().map(c -> c.split(" ")[0]).toList())
        .doesNotContainAnyElementsOf(EnrichedColumns.NAMES);

    long now = System.currentTimeMillis() / 1000 * 1000;
    String body =
        "{\"type\":\"track\",\"userId\":\"user-42\",\"anonymousId\":\"anon-1\","
            + "\"originalTimestamp\":\""
            + java.time.Instant.ofEpochMilli(now - 3_605_000)
            + "\",\"sentAt\":\""
            + java.time.Instant.ofEpochMilli(now - 3_600_000)
            + "\",\"context\":{\"campaign\":{\"term\":\"shoes\"}}}";
    TrafficEvent fresh = event("org-new", body);
    TrafficEvent newEvent =
        new TrafficEvent(
            fresh.organizationId(),
            fresh.eventId(),
            now,
            fresh.method(),
            fresh.url(),
            "{\"sec-gpc\":\"1\"}",
            fresh.queryParams(),
            fresh.body(),
            fresh.ip(),
            fresh.userAgent(),
            fresh.referer(),
            fresh.eventType(),
            fresh.clickId(),
            fresh.sessionId(),
            fresh.source(),
            fresh.medium(),
            fresh.campaign());
    try (ClickHouseSink sink = started(config)) {
      sink.write(batch(List.of(newEvent)));
    }
    try (ClickHouseSink other = started(config(Map.of("clickhouse.table", "enriched_fresh")))) {
      assertThat(columnsOf("enriched")).isEqualTo(columnsOf("enriched_fresh"));
    }
    Map<String, JsonNode> byOrg = new HashMap<>();
    for (JsonNode r :
        server.rows(
            "SELECT organization_id, user_id, anonymous_id, term, browser, device_class, is_bot,"
                + " referrer_class, privacy_signal, event_time_source, body,"
                + " toUnixTimestamp(event_time) AS et, toUnixTimestamp(client_timestamp) AS ct"
                + " FROM "
                + database
                + ".enriched")) {
      byOrg.put(r.get("organization_id").asText(), r);
    }
    assertThat(byOrg).containsOnlyKeys("org-old", "org-new");
    JsonNode o = byOrg.get("org-old");
    assertThat(o.get("body").asText()).isEqualTo(oldEvent.body());
    assertThat(o.get("user_id").asText()).isEmpty();
    assertThat(o.get("browser").asText()).isEmpty();
    assertThat(o.get("ct").asLong()).isZero();
    JsonNode n = byOrg.get("org-new");
    assertThat(n.get("user_id").asText()).isEqualTo("user-42");
    assertThat(n.get("anonymous_id").asText()).isEqualTo("anon-1");
    assertThat(n.get("term").asText()).isEqualTo("shoes");
    assertThat(n.get("browser").asText()).isEqualTo("Firefox");
    assertThat(n.get("device_class").asText()).isEqualTo("desktop");
    assertThat(n.get("is_bot").asText()).isEqualTo("false");
    assertThat(n.get("referrer_class").asText()).isEqualTo("paid");
    assertThat(n.get("privacy_signal").asText()).isEqualTo("gpc");
    assertThat(n.get("event_time_source").asText()).isEqualTo("skew_corrected");
    assertThat(n.get("et").asLong()).isEqualTo((now - 5_000) / 1000);
    assertThat(n.get("ct").asLong()).isEqualTo((now - 3_605_000) / 1000);
  }

  /** The table's columns with their types, in table order (system.columns lists them so). */
  private List<String> columnsOf(String table) {
    List<String> out = new ArrayList<>();
    for (JsonNode c :
        server.rows(
            "SELECT name, type FROM system.columns WHERE database = '"
                + database
                + "' AND table = '"
                + table
                + "'")) {
      out.add(c.get("name").asText() + " " + c.get("type").asText());
    }
    return out;
  }

  @Test
  void storesEveryColumnOfEveryEventAsSent() throws Exception {
    TrafficEvent json = event("org-a", "{\"event\":\"pageview\",\"n\":1,\"nested\":{\"ü\":[1,2]}}");
    TrafficEvent text = event("org-b", "not json at all\n\ttabs, \"quotes\", \\ backslash, 🚀");
    TrafficEvent empty =
        new TrafficEvent(
            "org-a",
            Uuids.v7(0).toString(),
            0L,
            "GET",
            "/pixel",
            "",
            "",
            "",
            "",
            "",
            "",
            "pixel",
            "",
            "",
            "",
            "",
            "");
    try (ClickHouseSink sink = started(config(Map.of("clickhouse.table", "values")))) {
      sink.write(batch(List.of(json, text, empty)));
      boolean millis = sink.schema().features().dateTime64();
      for (TrafficEvent sent : List.of(json, text, empty)) {
        List<JsonNode> got = rows("values", "event_id = toUUID('" + sent.eventId() + "')");
        assertThat(got).hasSize(1);
        JsonNode row = got.get(0);
        assertThat(row.get("organization_id").asText()).isEqualTo(sent.organizationId());
        assertThat(row.get("id").asText()).isEqualTo(sent.eventId());
        assertThat(row.get("ts_seconds").asLong()).isEqualTo(Math.floorDiv(sent.timestamp(), 1000));
        if (millis) {
          assertThat(
                  server.number(
                      "SELECT toUnixTimestamp64Milli(timestamp) FROM "
                          + database
                          + ".values WHERE event_id = toUUID('"
                          + sent.eventId()
                          + "')"))
              .isEqualTo(sent.timestamp());
        }
        assertThat(row.get("method").asText()).isEqualTo(sent.method());
        assertThat(row.get("url").asText()).isEqualTo(sent.url());
        assertThat(row.get("headers").asText()).isEqualTo(sent.headers());
        assertThat(row.get("query_params").asText()).isEqualTo(sent.queryParams());
        assertThat(row.get("body").asText()).isEqualTo(sent.body());
        assertThat(row.get("ip").asText()).isEqualTo(sent.ip());
        assertThat(row.get("user_agent").asText()).isEqualTo(sent.userAgent());
        assertThat(row.get("referer").asText()).isEqualTo(sent.referer());
        assertThat(row.get("event_type").asText()).isEqualTo(sent.eventType());
        assertThat(row.get("click_id").asText()).isEqualTo(sent.clickId());
        assertThat(row.get("session_id").asText()).isEqualTo(sent.sessionId());
        assertThat(row.get("source").asText()).isEqualTo(sent.source());
        assertThat(row.get("medium").asText()).isEqualTo(sent.medium());
        assertThat(row.get("campaign").asText()).isEqualTo(sent.campaign());
      }
      long ingestedLag =
          server.number(
              "SELECT max(abs(toUnixTimestamp(ingested_at) - toUnixTimestamp(now()))) FROM "
                  + database
                  + ".values");
      assertThat(ingestedLag).isLessThan(120);
    }
  }

  @Test
  void aRowTheServerRejectsFailsTheWholeBatchAsPermanentAndStoresNothing() throws Exception {
    TrafficEvent good1 = event("org-a", "{}");
    TrafficEvent good2 = event("org-a", "{}");
    TrafficEvent bad =
        new TrafficEvent(
            "org-a",
            "not-a-uuid",
            System.currentTimeMillis(),
            "POST",
            "/events",
            "",
            "",
            "{}",
            "",
            "",
            "",
            "event",
            "",
            "",
            "",
            "",
            "");
    try (ClickHouseSink sink = started(config(Map.of("clickhouse.table", "rejects")))) {
      assertThatThrownBy(() -> sink.write(batch(List.of(good1, bad, good2))))
          .isInstanceOfSatisfying(
              SinkException.class,
              e -> {
                assertThat(e.kind()).as(e.getMessage()).isEqualTo(SinkException.Kind.PERMANENT);
                assertThat(e.getMessage()).contains("bad data");
              });
      assertThat(server.number("SELECT count() FROM " + database + ".rejects")).isZero();
    }
  }

  /** {@code max_partitions_per_insert_block} of the server, 0 when it has no such limit. */
  private long partitionLimit() {
    String v =
        server
            .query(
                "SELECT value FROM system.settings WHERE name = 'max_partitions_per_insert_block'")
            .trim();
    return v.isEmpty() ? 0 : Long.parseLong(v);
  }

  private static List<TrafficEvent> organizations(int count, int eventsEach) {
    List<TrafficEvent> out = new ArrayList<>();
    for (int e = 0; e < eventsEach; e++) {
      for (int o = 0; o < count; o++) {
        out.add(event(String.format("org-%04d", o), "{\"n\":" + e + "}"));
      }
    }
    return out;
  }

  @Test
  void fiveHundredOrganizationsInOneBatchAreStoredOnceWithinThePartitionLimit() throws Exception {
    long limit = partitionLimit();
    try (ClickHouseSink sink = started(config(Map.of("clickhouse.table", "orgs500")))) {
      SinkBatch b = batch(organizations(500, 2));
      // What one insert of the whole batch does on this server.
      StringBuilder rows = new StringBuilder();
      EventRows.allButWriteTime(EventSchema.EVENTS)
          .write(
              new java.io.OutputStream() {
                @Override
                public void write(int c) {
                  rows.append((char) c);
                }

                @Override
                public void write(byte[] buf, int off, int len) {
                  rows.append(new String(buf, off, len, java.nio.charset.StandardCharsets.UTF_8));
                }
              },
              b.events(),
              -1);
      String oneInsert =
          "INSERT INTO "
              + database
              + ".orgs500 ("
              + String.join(", ", EventRows.allButWriteTime(EventSchema.EVENTS).names())
              + ") FORMAT JSONEachRow\n"
              + rows;
      if (limit > 0 && limit < 500) {
        assertThatThrownBy(() -> server.query(oneInsert))
            .hasMessageContaining("Code: 252")
            .hasMessageContaining("Too many partitions for single INSERT block");
        assertThat(server.number("SELECT count() FROM " + database + ".orgs500")).isZero();
      }

      long before = sink.inserts();
      sink.write(b);
      long inserts = sink.inserts() - before;
      System.out.println(
          "ClickHouse "
              + server.version()
              + ": 1,000 events of 500 organizations written in "
              + inserts
              + " inserts (max_partitions_per_insert_block "
              + (limit == 0 ? "none" : limit)
              + ")");
      assertThat(inserts).isEqualTo(limit == 0 ? 1 : (500 + limit - 1) / limit);
      assertThat(server.number("SELECT count() FROM " + database + ".orgs500")).isEqualTo(1000);
      assertThat(server.number("SELECT uniqExact(event_id) FROM " + database + ".orgs500"))
          .isEqualTo(1000);
      assertThat(server.number("SELECT uniqExact(organization_id) FROM " + database + ".orgs500"))
          .isEqualTo(500);

      // Written again, as after a lost answer: stored once where the server deduplicates.
      sink.write(b);
      long stored = server.number("SELECT count() FROM " + database + ".orgs500");
      assertThat(stored).isEqualTo(sink.schema().features().deduplicationToken() ? 1000 : 2000);
    }
  }

  @Test
  void aBadRowInOneOfSeveralInsertsIsRefusedAloneAndEveryOtherRowIsStoredOnce() throws Exception {
    long limit = partitionLimit();
    // click_id holds at most 16 bytes: a longer one is refused by the server itself.
    server.query(
        "CREATE TABLE "
            + database
            + ".orgs_poison (organization_id String, event_id UUID, timestamp DateTime,"
            + " method String, url String, headers String, query_params String, body String,"
            + " ip String, user_agent String, referer String, event_type String,"
            + " click_id FixedString(16), session_id String, ingested_at DateTime DEFAULT now())"
            + " ENGINE = MergeTree() PARTITION BY (toYYYYMM(timestamp), organization_id)"
            + " ORDER BY (organization_id, timestamp, event_id)"
            + (ServerVersion.parse(server.version()).atLeast(22, 2)
                ? " SETTINGS non_replicated_deduplication_window = 1000"
                : ""));
    List<TrafficEvent> events = new ArrayList<>(organizations(300, 1));
    TrafficEvent good = events.get(250);
    TrafficEvent poison =
        new TrafficEvent(
            good.organizationId(),
            good.eventId(),
            good.timestamp(),
            good.method(),
            good.url(),
            good.headers(),
            good.queryParams(),
            good.body(),
            good.ip(),
            good.userAgent(),
            good.referer(),
            good.eventType(),
            "far-too-long-for-sixteen-bytes",
            good.sessionId(),
            good.source(),
            good.medium(),
            good.campaign());
    events.set(250, poison);
    try (ClickHouseSink sink =
        started(
            config(
                Map.of("clickhouse.table", "orgs_poison", "clickhouse.create-table", "false")))) {
      SinkBatch b = batch(events);
      if (limit == 0 || limit >= 300) {
        // One insert: refused whole, nothing stored; the spool splits the batch.
        assertThatThrownBy(() -> sink.write(b))
            .isInstanceOfSatisfying(
                SinkException.class,
                e -> assertThat(e.kind()).isEqualTo(SinkException.Kind.PERMANENT));
        assertThat(server.number("SELECT count() FROM " + database + ".orgs_poison")).isZero();
        return;
      }
      for (int attempt = 0; attempt < 2; attempt++) {
        assertThatThrownBy(() -> sink.write(b))
            .isInstanceOfSatisfying(
                SinkException.class,
                e -> {
                  assertThat(e.kind()).isEqualTo(SinkException.Kind.ROWS);
                  assertThat(e.othersStored()).isTrue();
                  assertThat(e.rowErrors()).containsOnlyKeys(250);
                  assertThat(e.rowErrors().get(250)).contains("bad data");
                });
        // A second attempt (the spool retrying after a crash) stores nothing twice.
        assertThat(server.number("SELECT count() FROM " + database + ".orgs_poison"))
            .isEqualTo(299);
        assertThat(server.number("SELECT uniqExact(event_id) FROM " + database + ".orgs_poison"))
            .isEqualTo(299);
      }
    }
  }

  @Test
  void asyncInsertStoresEveryRowAndARetriedBatchOnceWhereTheServerDeduplicates() throws Exception {
    try (ClickHouseSink sink =
        started(config(Map.of("clickhouse.table", "async", "clickhouse.async-insert", "true")))) {
      SinkBatch b = batch(List.of(event("org-a", "{}"), event("org-b", "{}")));
      sink.write(b);
      // Returned: stored (wait_for_async_insert=1), visible at once.
      assertThat(server.number("SELECT count() FROM " + database + ".async")).isEqualTo(2);
      sink.write(b);
      boolean dedup = sink.schema().features().deduplicationToken();
      assertThat(server.number("SELECT count() FROM " + database + ".async"))
          .isEqualTo(dedup ? 2 : 4);
      if (sink.schema().features().asyncInsert()) {
        assertThat(sink.schema().insertSettings("t"))
            .containsEntry("async_insert", "1")
            .containsEntry("wait_for_async_insert", "1");
      }
    }
  }

  @Test
  void clickHouseDownIsTransientAndDoesNotStopStartUp() throws Exception {
    int closedPort = FreePorts.pick();
    ClickHouseConfig down =
        config(
            Map.of(
                "clickhouse.url", "http://127.0.0.1:" + closedPort, "clickhouse.table", "never"));
    try (ClickHouseSink sink = started(down)) {
      assertThat(sink.schema()).isNull();
      assertThat(sink.check().healthy()).isFalse();
      assertThatThrownBy(() -> sink.write(batch(List.of(event("org-a", "{}")))))
          .isInstanceOfSatisfying(
              SinkException.class,
              e -> assertThat(e.kind()).isEqualTo(SinkException.Kind.TRANSIENT));
    }
  }

  @Test
  void afterAConnectionFailureTheNextUrlIsTried() throws Exception {
    int closedPort = FreePorts.pick();
    ClickHouseConfig two =
        config(
            Map.of(
                "clickhouse.url",
                "http://127.0.0.1:" + closedPort + "," + server.url(),
                "clickhouse.table",
                "failover"));
    TrafficEvent e = event("org-a", "{}");
    try (ClickHouseSink sink = started(two)) {
      // Start-up found the first URL dead and moved on; the first insert goes to the second.
      sink.write(batch(List.of(e)));
      assertThat(server.number("SELECT count() FROM " + database + ".failover")).isEqualTo(1);
    }
  }

  @Test
  void wrongPasswordIsTransientAndNeverShown() throws Exception {
    assumeThat(server.managed()).as("the managed server has a user with a password").isTrue();
    ClickHouseConfig right =
        config(
            Map.of(
                "clickhouse.user", ClickHouseServer.PASSWORD_USER,
                "clickhouse.password", ClickHouseServer.PASSWORD,
                "clickhouse.table", "auth"));
    try (ClickHouseSink sink = started(right)) {
      sink.write(batch(List.of(event("org-a", "{}"))));
      assertThat(sink.toString()).doesNotContain(ClickHouseServer.PASSWORD);
    }
    ClickHouseConfig wrong =
        config(
            Map.of(
                "clickhouse.user", ClickHouseServer.PASSWORD_USER,
                "clickhouse.password", "wrong-Pa55word",
                "clickhouse.table", "auth"));
    try (ClickHouseSink sink = started(wrong)) {
      assertThatThrownBy(() -> sink.write(batch(List.of(event("org-a", "{}")))))
          .isInstanceOfSatisfying(
              SinkException.class,
              e -> {
                assertThat(e.kind()).isEqualTo(SinkException.Kind.TRANSIENT);
                assertThat(e.getMessage()).doesNotContain("wrong-Pa55word");
              });
      assertThat(sink.toString()).doesNotContain("wrong-Pa55word");
    }
    assertThat(server.number("SELECT count() FROM " + database + ".auth")).isEqualTo(1);
  }

  @Test
  void withoutCreateTableAMissingTableIsTransientNotBadData() throws Exception {
    ClickHouseConfig c =
        config(Map.of("clickhouse.table", "missing", "clickhouse.create-table", "false"));
    try (ClickHouseSink sink = started(c)) {
      assertThatThrownBy(() -> sink.write(batch(List.of(event("org-a", "{}")))))
          .isInstanceOfSatisfying(
              SinkException.class,
              e -> assertThat(e.kind()).isEqualTo(SinkException.Kind.TRANSIENT));
    }
  }

  @Test
  void aRetriedBatchIsStoredOnceWhereTheServerDeduplicatesElseTwice() throws Exception {
    try (ClickHouseSink sink = started(config(Map.of("clickhouse.table", "retries")))) {
      SinkBatch b = batch(List.of(event("org-a", "{}"), event("org-b", "{}")));
      sink.write(b);
      sink.write(b);
      long stored = server.number("SELECT count() FROM " + database + ".retries");
      boolean dedup = sink.schema().features().deduplicationToken();
      System.out.println(
          "ClickHouse "
              + server.version()
              + ": a batch of 2 written twice left "
              + stored
              + " rows (deduplication "
              + (dedup ? "on" : "not available")
              + ")");
      assertThat(stored).isEqualTo(dedup ? 2 : 4);
    }
  }

  @Test
  void serverStoppedAndRestartedFailsTransientlyThenStores() throws Exception {
    assumeThat(server.managed()).as("only a server started by the tests can be stopped").isTrue();
    try (ClickHouseSink sink = started(config(Map.of("clickhouse.table", "restart")))) {
      SinkBatch b = batch(List.of(event("org-a", "{}")));
      server.stop();
      try {
        assertThatThrownBy(() -> sink.write(b))
            .isInstanceOfSatisfying(
                SinkException.class,
                e -> assertThat(e.kind()).isEqualTo(SinkException.Kind.TRANSIENT));
        assertThat(sink.check().healthy()).isFalse();
      } finally {
        server.restart();
      }
      sink.write(b);
      assertThat(server.number("SELECT count() FROM " + database + ".restart")).isEqualTo(1);
      assertThat(sink.check().healthy()).isTrue();
    }
  }
}
