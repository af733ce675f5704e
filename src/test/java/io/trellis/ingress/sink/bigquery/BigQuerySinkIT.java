package io.trellis.ingress.sink.bigquery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.Status;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.trellis.ingress.cli.ServiceSettings;
import io.trellis.ingress.enrich.EnrichConfig;
import io.trellis.ingress.enrich.EnrichedColumns;
import io.trellis.ingress.enrich.Enricher;
import io.trellis.ingress.event.Enrichments;
import io.trellis.ingress.event.EventSchema;
import io.trellis.ingress.event.SpooledEvent;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.SinkBatch;
import io.trellis.ingress.sink.SinkContext;
import io.trellis.ingress.sink.SinkException;
import io.trellis.ingress.testing.bigquery.FakeBigQuery;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sink against a local server speaking the Storage Write API and BigQuery's REST API. */
class BigQuerySinkIT {
  private static final String PROJECT = "test-project";

  @TempDir Path dataDir;
  private FakeBigQuery bq;
  private final List<BigQuerySink> sinks = new ArrayList<>();

  @BeforeEach
  void startFake() {
    bq = FakeBigQuery.start();
  }

  @AfterEach
  void stop() {
    sinks.forEach(BigQuerySink::close);
    bq.close();
  }

  private BigQuerySink sink(Map<String, String> extra) {
    Map<String, String> settings = new HashMap<>(bq.settings(PROJECT));
    settings.putAll(extra);
    BigQuerySink s =
        new BigQuerySink(
            BigQueryConfig.from(ServiceSettings.config(settings), dataDir),
            new SimpleMeterRegistry());
    sinks.add(s);
    return s;
  }

  /** The sink's spool cursor and the note kept with it, as the spool keeps them. */
  private static final class Cursor implements SinkContext {
    volatile long committed;
    volatile String note = "";
    int saves;

    @Override
    public long committedOffset() {
      return committed;
    }

    @Override
    public String metadata() {
      return note;
    }

    @Override
    public void saveMetadata(String metadata) {
      note = metadata;
      saves++;
    }
  }

  private final Cursor cursor = new Cursor();

  private BigQuerySink started() throws SinkException {
    BigQuerySink s = sink(Map.of());
    s.start();
    s.open(cursor);
    return s;
  }

  static TrafficEvent event(long n, String eventType, String body) {
    return new TrafficEvent(
        "org-1",
        String.format("00000000-0000-7000-8000-%012d", n),
        1_767_000_000_000L + n,
        "POST",
        "http://127.0.0.1/events?utm_source=google",
        "{\"content-type\":\"application/json\",\"user-agent\":\"test\"}",
        "{\"utm_source\":\"google\"}",
        body,
        "10.0.0." + (n % 250),
        "test",
        "https://example.com/",
        eventType,
        "",
        "",
        "google",
        "",
        "");
  }

  static SinkBatch batch(long from, long toExclusive) {
    return new SinkBatch(
        LongStream.range(from, toExclusive)
            .mapToObj(o -> new SpooledEvent(o, event(o, "pageview", "{\"n\":" + o + "}")))
            .toList());
  }

  private List<Map<String, Object>> rows() {
    return bq.rows(PROJECT, "trellis", "events");
  }

  private List<String> eventIds() {
    return rows().stream().map(r -> (String) r.get("event_id")).toList();
  }

  private static List<String> idsOf(long from, long toExclusive) {
    return LongStream.range(from, toExclusive).mapToObj(o -> event(o, "", "").eventId()).toList();
  }

  /** What the delivery loop does with transient failures: the same batch again, until it sticks. */
  private static int writeUntilStored(BigQuerySink sink, SinkBatch batch) throws SinkException {
    int failures = 0;
    while (true) {
      try {
        sink.write(batch);
        return failures;
      } catch (SinkException e) {
        if (e.kind() != SinkException.Kind.TRANSIENT || ++failures > 50) {
          throw e;
        }
      }
    }
  }

  @Test
  void createsTheSeedTableWhenMissing() throws Exception {
    started();

    JsonNode table = bq.table(PROJECT, "trellis", "events");
    assertThat(table).isNotNull();
    assertThat(bq.hasDataset(PROJECT, "trellis")).isTrue();
    List<String> columns = new ArrayList<>();
    for (JsonNode f : table.path("schema").path("fields")) {
      columns.add(
          f.path("name").asText() + " " + f.path("type").asText() + " " + f.path("mode").asText());
    }
    assertThat(columns)
        .containsExactly(
            "organization_id STRING REQUIRED",
            "event_id STRING REQUIRED",
            "timestamp TIMESTAMP REQUIRED",
            "request_data JSON NULLABLE",
            "event_type STRING NULLABLE",
            "click_id STRING NULLABLE",
            "session_id STRING NULLABLE",
            "source STRING NULLABLE",
            "medium STRING NULLABLE",
            "campaign STRING NULLABLE",
            "term STRING NULLABLE",
            "content STRING NULLABLE",
            "client_timestamp TIMESTAMP NULLABLE",
            "sent_at TIMESTAMP NULLABLE",
            "event_time TIMESTAMP NULLABLE",
            "event_time_source STRING NULLABLE",
            "user_id STRING NULLABLE",
            "anonymous_id STRING NULLABLE",
            "referrer_class STRING NULLABLE",
            "browser STRING NULLABLE",
            "browser_version STRING NULLABLE",
            "os STRING NULLABLE",
            "device_class STRING NULLABLE",
            "is_bot STRING NULLABLE",
            "geo_country STRING NULLABLE",
            "geo_region STRING NULLABLE",
            "geo_city STRING NULLABLE",
            "geo_asn STRING NULLABLE",
            "privacy_signal STRING NULLABLE",
            "ingested_at TIMESTAMP NULLABLE");
    assertThat(table.path("schema").path("fields").get(29).path("defaultValueExpression").asText())
        .isEqualTo("CURRENT_TIMESTAMP()");
    assertThat(table.path("timePartitioning").path("type").asText()).isEqualTo("DAY");
    assertThat(table.path("timePartitioning").path("field").asText()).isEqualTo("timestamp");
    assertThat(table.path("clustering").path("fields").toString())
        .isEqualTo("[\"organization_id\",\"event_type\"]");
  }

  @Test
  void storesEveryFieldOfAnEvent() throws Exception {
    BigQuerySink sink = started();
    TrafficEvent json =
        new TrafficEvent(
            "org-7",
            "0190a8f0-0000-7000-8000-000000000001",
            1_767_225_600_123L,
            "POST",
            "http://collect.example/events?utm_campaign=spring",
            "{\"content-type\":\"application/json\",\"cookie\":\"a=1; b=2\"}",
            "{\"utm_campaign\":\"spring\"}",
            "{\"event\":\"signup\",\"plan\":{\"tier\":\"pro\"},\"n\":[1,2]}",
            "203.0.113.9",
            "Mozilla/5.0",
            "https://ref.example/",
            "signup",
            "gclid-123",
            "sess-9",
            "newsletter",
            "email",
            "spring");
    TrafficEvent text =
        new TrafficEvent(
            "org-7",
            "0190a8f0-0000-7000-8000-000000000002",
            1_767_225_600_456L,
            "POST",
            "http://collect.example/pixel",
            "{}",
            "{}",
            "a=1&b=not json {",
            "",
            "",
            "",
            "pixel",
            "",
            "",
            "",
            "",
            "");
    long before = System.currentTimeMillis();
    sink.write(new SinkBatch(List.of(new SpooledEvent(0, json), new SpooledEvent(1, text))));

    List<Map<String, Object>> rows = rows();
    assertThat(rows).hasSize(2);
    Map<String, Object> r = rows.get(0);
    assertThat(r.get("organization_id")).isEqualTo("org-7");
    assertThat(r.get("event_id")).isEqualTo("0190a8f0-0000-7000-8000-000000000001");
    assertThat(r.get("timestamp")).isEqualTo(Instant.ofEpochMilli(1_767_225_600_123L));
    assertThat(r.get("event_type")).isEqualTo("signup");
    assertThat(r.get("click_id")).isEqualTo("gclid-123");
    assertThat(r.get("session_id")).isEqualTo("sess-9");
    assertThat(r.get("source")).isEqualTo("newsletter");
    assertThat(r.get("medium")).isEqualTo("email");
    assertThat(r.get("campaign")).isEqualTo("spring");
    assertThat((Instant) r.get("ingested_at"))
        .isBetween(Instant.ofEpochMilli(before), Instant.now());
    JsonNode data = (JsonNode) r.get("request_data");
    assertThat(data.path("method").asText()).isEqualTo("POST");
    assertThat(data.path("url").asText())
        .isEqualTo("http://collect.example/events?utm_campaign=spring");
    assertThat(data.path("headers").path("cookie").asText()).isEqualTo("a=1; b=2");
    assertThat(data.path("query_params").path("utm_campaign").asText()).isEqualTo("spring");
    assertThat(data.path("body").path("plan").path("tier").asText()).isEqualTo("pro");
    assertThat(data.path("body").path("n").toString()).isEqualTo("[1,2]");
    assertThat(data.path("ip").asText()).isEqualTo("203.0.113.9");
    assertThat(data.path("user_agent").asText()).isEqualTo("Mozilla/5.0");
    assertThat(data.path("referer").asText()).isEqualTo("https://ref.example/");

    Map<String, Object> t = rows.get(1);
    assertThat(((JsonNode) t.get("request_data")).path("body").isTextual()).isTrue();
    assertThat(((JsonNode) t.get("request_data")).path("body").asText())
        .isEqualTo("a=1&b=not json {");
    assertThat(t.get("source")).isNull();
    assertThat(t.get("campaign")).isNull();
    assertThat(t.get("click_id")).isNull();
  }

  @Test
  void anAppendRepeatedAfterALostAcknowledgementIsNotStoredTwice() throws Exception {
    BigQuerySink sink = started();
    sink.write(batch(0, 10));
    bq.loseAcknowledgements(1);

    int failures = writeUntilStored(sink, batch(10, 20));

    assertThat(eventIds()).containsExactlyElementsOf(idsOf(0, 20));
    assertThat(bq.appendCalls())
        .as("the repeated append was refused by its offset, not stored again")
        .anyMatch(c -> c.result().equals("already exists") && c.offset() == 10);
    assertThat(failures).isLessThanOrEqualTo(1);
  }

  @Test
  void aLongerReplayAfterACrashStoresOnlyWhatIsMissing() throws Exception {
    bq.reportExpectedOffset(false); // the sink must find the end of the stream by itself
    BigQuerySink first = started();
    first.write(batch(0, 3));
    cursor.committed = 3; // the spool's cursor moved past the first batch
    first.write(batch(3, 10));
    first.close();
    // The process died after BigQuery stored 3..9 but before the spool moved its cursor.

    // Restarted, the spool replays from its cursor, in a batch of another size.
    BigQuerySink second = started();
    second.write(batch(3, 25));

    assertThat(eventIds()).containsExactlyElementsOf(idsOf(0, 25));
    assertThat(bq.streamNames()).hasSize(1);
    assertThat(bq.appendCalls())
        .as("the end of the stream was found with single-row probes")
        .anyMatch(c -> c.rows() == 22 && c.result().equals("already exists"))
        .anyMatch(c -> c.rows() == 1 && c.result().equals("already exists"));
  }

  @Test
  void theStreamIsRecordedWithTheSpoolCursorBeforeItsFirstAppendAndNoFileOfItsOwn()
      throws Exception {
    BigQuerySink sink = started();
    sink.write(batch(0, 5));
    String stream = bq.streamNames().iterator().next();
    assertThat(cursor.note).contains(stream).contains("\"base\":0");
    assertThat(cursor.saves).isEqualTo(1);
    sink.write(batch(5, 10));
    assertThat(cursor.saves).as("appends to the same stream record nothing").isEqualTo(1);
    assertThat(dataDir.resolve("bigquery").resolve("stream.json")).doesNotExist();
  }

  @Test
  void theStreamFileOfAnEarlierVersionMovesToTheCursorAndTheStreamContinues() throws Exception {
    BigQuerySink first = started();
    first.write(batch(0, 10));
    first.close();
    // What the earlier version left: its own state file, and a cursor without a note.
    Path legacy = dataDir.resolve("bigquery").resolve("stream.json");
    Files.createDirectories(legacy.getParent());
    Files.writeString(legacy, cursor.note.replace("}", ",\"next\":10}"));
    cursor.note = "";
    cursor.committed = 7;

    BigQuerySink second = started();
    second.write(batch(7, 15));

    assertThat(legacy).doesNotExist();
    assertThat(cursor.note).contains(bq.streamNames().iterator().next());
    assertThat(eventIds()).containsExactlyElementsOf(idsOf(0, 15));
    assertThat(bq.streamNames()).hasSize(1);
  }

  @Test
  void aReplayAfterRestartContinuesTheSameStreamWithoutDuplicates() throws Exception {
    BigQuerySink first = started();
    first.write(batch(0, 10));
    first.close();

    BigQuerySink second = started();
    second.write(batch(5, 15)); // the spool's cursor lagged behind what BigQuery has
    second.write(batch(15, 20));

    assertThat(eventIds()).containsExactlyElementsOf(idsOf(0, 20));
    assertThat(bq.streamNames()).hasSize(1);
  }

  @Test
  void failingForAWhileLosesNothing() throws Exception {
    BigQuerySink sink = started();
    sink.write(batch(0, 5));
    bq.failAppends(4, Status.Code.UNAVAILABLE);
    int unavailable = writeUntilStored(sink, batch(5, 10));
    bq.failAppends(2, Status.Code.RESOURCE_EXHAUSTED);
    int exhausted = writeUntilStored(sink, batch(10, 15));
    bq.failAppends(2, Status.Code.DEADLINE_EXCEEDED);
    int deadline = writeUntilStored(sink, batch(15, 20));

    assertThat(unavailable).isPositive();
    assertThat(exhausted).isPositive();
    assertThat(deadline).isPositive();
    assertThat(eventIds()).containsExactlyElementsOf(idsOf(0, 20));
    assertThat(sink.check().healthy()).isTrue();
  }

  @Test
  void aFailureIsReportedByTheHealthCheckUntilAWriteSucceeds() throws Exception {
    BigQuerySink sink = started();
    bq.down(true);
    assertThatThrownBy(() -> sink.write(batch(0, 3))).isInstanceOf(SinkException.class);
    assertThat(sink.check().healthy()).isFalse();
    bq.down(false);
    writeUntilStored(sink, batch(0, 3));
    assertThat(sink.check().healthy()).isTrue();
  }

  @Test
  void aRejectedRowIsNamedAndItsNeighboursAreStoredWhenWrittenAgain() throws Exception {
    BigQuerySink sink = started();
    bq.rejectRows(r -> "bad".equals(r.get("event_type")));
    List<SpooledEvent> items = new ArrayList<>(batch(0, 5).items());
    items.set(2, new SpooledEvent(2, event(2, "bad", "{}")));

    SinkException e =
        catchThrowableOfType(SinkException.class, () -> sink.write(new SinkBatch(items)));
    assertThat(e.kind()).isEqualTo(SinkException.Kind.ROWS);
    assertThat(e.rowErrors()).containsOnlyKeys(2);
    assertThat(e.rowErrors().get(2)).contains("refused");
    assertThat(rows()).isEmpty();

    // What the delivery loop does next: dead-letter row 2, write the rest again.
    List<SpooledEvent> rest = new ArrayList<>(items);
    rest.remove(2);
    sink.write(new SinkBatch(rest));
    sink.write(batch(5, 8));

    List<String> expected = new ArrayList<>(idsOf(0, 8));
    expected.remove(2);
    assertThat(eventIds()).containsExactlyElementsOf(expected);
  }

  @Test
  void requestsStayUnderTheTenMegabyteLimit() throws Exception {
    BigQuerySink sink = started();
    String big = "x".repeat(1_000_000);
    List<SpooledEvent> items = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      items.add(new SpooledEvent(i, event(i, "big", big)));
    }
    sink.write(new SinkBatch(items));

    assertThat(eventIds()).containsExactlyElementsOf(idsOf(0, 25));
    List<FakeBigQuery.AppendCall> calls = bq.appendCalls();
    assertThat(calls).hasSizeGreaterThanOrEqualTo(3);
    assertThat(calls).allMatch(c -> c.requestBytes() < 10_000_000 && c.result().equals("ok"));
  }

  @Test
  void aFinalizedStreamIsReplacedWithoutLosingRows() throws Exception {
    BigQuerySink sink = started();
    sink.write(batch(0, 5));
    bq.finalizeStream(bq.streamNames().iterator().next());
    sink.write(batch(5, 10));

    assertThat(eventIds()).containsExactlyElementsOf(idsOf(0, 10));
    assertThat(bq.streamNames()).hasSize(2);
  }

  @Test
  void aTableOfTheVersionWithoutEnrichmentIsPatchedAtStartAndKeepsItsRows() throws Exception {
    Enrichments.install(Enricher.open(EnrichConfig.defaults()));
    EventSchema before =
        new EventSchema(
            EventSchema.EVENTS.columns().stream()
                .filter(c -> !EnrichedColumns.NAMES.contains(c.name()))
                .toList());
    Map<String, String> settings = new HashMap<>(bq.settings(PROJECT));
    BigQuerySink previous =
        new BigQuerySink(
            BigQueryConfig.from(ServiceSettings.config(settings), dataDir),
            new SimpleMeterRegistry(),
            before);
    sinks.add(previous);
    previous.start();
    previous.open(cursor);
    writeUntilStored(previous, batch(0, 3));
    previous.close();
    List<String> oldFields = new ArrayList<>();
    bq.table(PROJECT, "trellis", "events")
        .path("schema")
        .path("fields")
        .forEach(f -> oldFields.add(f.path("name").asText()));
    assertThat(oldFields).doesNotContain("user_id", "event_time", "browser");

    BigQuerySink upgraded = started();
    String body =
        "{\"type\":\"track\",\"userId\":\"user-42\",\"anonymousId\":\"anon-1\","
            + "\"originalTimestamp\":\"2025-12-29T09:19:55.000Z\","
            + "\"sentAt\":\"2025-12-29T09:20:00.000Z\"}";
    writeUntilStored(
        upgraded, new SinkBatch(List.of(new SpooledEvent(3, event(3, "track", body)))));

    List<String> fields = new ArrayList<>();
    bq.table(PROJECT, "trellis", "events")
        .path("schema")
        .path("fields")
        .forEach(
            f ->
                fields.add(
                    f.path("name").asText()
                        + " "
                        + f.path("type").asText()
                        + " "
                        + f.path("mode").asText("NULLABLE")));
    assertThat(fields.subList(0, oldFields.size()))
        .extracting(f -> f.split(" ")[0])
        .containsExactlyElementsOf(oldFields);
    assertThat(fields)
        .contains(
            "user_id STRING NULLABLE",
            "event_time TIMESTAMP NULLABLE",
            "client_timestamp TIMESTAMP NULLABLE",
            "referrer_class STRING NULLABLE");
    assertThat(bq.tablePatches()).isEqualTo(1);
    List<Map<String, Object>> rows = rows();
    assertThat(rows).hasSize(4);
    for (Map<String, Object> old : rows.subList(0, 3)) {
      assertThat(old).doesNotContainKey("user_id").containsKey("request_data");
    }
    Map<String, Object> row = rows.get(3);
    assertThat(row.get("user_id")).isEqualTo("user-42");
    assertThat(row.get("anonymous_id")).isEqualTo("anon-1");
    assertThat(row.get("event_time_source")).isEqualTo("skew_corrected");
    assertThat(row.get("referrer_class")).isEqualTo("other");
  }

  @Test
  void aTableThatCannotTakeTheRowsFailsStartWithAClearMessage() {
    bq.createTable(
        PROJECT,
        "trellis",
        "events",
        List.of(
            Map.of("name", "organization_id", "type", "STRING", "mode", "REQUIRED"),
            Map.of("name", "event_id", "type", "STRING", "mode", "REQUIRED"),
            Map.of("name", "timestamp", "type", "TIMESTAMP", "mode", "REQUIRED"),
            Map.of("name", "request_data", "type", "STRING", "mode", "NULLABLE"),
            Map.of("name", "tenant", "type", "STRING", "mode", "REQUIRED")));

    SinkException e = catchThrowableOfType(SinkException.class, () -> sink(Map.of()).start());

    assertThat(e.kind()).isEqualTo(SinkException.Kind.PERMANENT);
    assertThat(e.getMessage())
        .contains("test-project.trellis.events")
        .contains("column request_data is STRING, expected JSON")
        .contains("missing column campaign")
        .contains("extra column tenant is REQUIRED");
  }

  @Test
  void aMissingTableFailsStartWhenCreatingItIsOff() {
    SinkException e =
        catchThrowableOfType(
            SinkException.class, () -> sink(Map.of("bigquery.create-table", "false")).start());
    assertThat(e.getMessage()).contains("does not exist").contains("bigquery.create-table");
    assertThat(bq.table(PROJECT, "trellis", "events")).isNull();
  }

  @Test
  void bigQueryDownAtStartDoesNotStopTheSinkFromStarting() throws Exception {
    bq.down(true);
    BigQuerySink sink = sink(Map.of());
    sink.start();
    sink.open(cursor);
    assertThat(sink.check().healthy()).isFalse();
    assertThatThrownBy(() -> sink.write(batch(0, 3)))
        .isInstanceOf(SinkException.class)
        .extracting(e -> ((SinkException) e).kind())
        .isEqualTo(SinkException.Kind.TRANSIENT);

    bq.down(false);
    writeUntilStored(sink, batch(0, 3));
    assertThat(eventIds()).containsExactlyElementsOf(idsOf(0, 3));
  }

  @Test
  void toStringNamesTheTableButNotTheKeyFile() {
    BigQuerySink sink = sink(Map.of("bigquery.credentials", "/secret/place/key.json"));
    assertThat(sink.toString()).contains("test-project.trellis.events").doesNotContain("secret");
  }
}
