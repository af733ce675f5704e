package io.trellis.ingress.sink.clickhouse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.ingress.cli.ServiceSettings;
import io.trellis.ingress.event.EventSchema;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClickHouseSchemaTest {
  private static ClickHouseConfig config(String... pairs) {
    Map<String, String> m = new HashMap<>();
    m.put("clickhouse.url", "http://h:8123");
    for (int i = 0; i < pairs.length; i += 2) {
      m.put(pairs[i], pairs[i + 1]);
    }
    return ClickHouseConfig.from(ServiceSettings.config(m));
  }

  private static ClickHouseSchema schema(String version, String... pairs) {
    return new ClickHouseSchema(config(pairs), ServerVersion.parse(version));
  }

  @Test
  void parsesVersions() {
    assertThat(ServerVersion.parse("18.16.1").atLeast(18, 16)).isTrue();
    assertThat(ServerVersion.parse("18.16.1").atLeast(19, 3)).isFalse();
    assertThat(ServerVersion.parse("24.8.4.13").atLeast(22, 2)).isTrue();
    assertThat(ServerVersion.parse("25.3.1.2703-lts\n").minor()).isEqualTo(3);
    assertThatThrownBy(() -> ServerVersion.parse("<html>"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aModernServerGetsTheSeedLayout() {
    ClickHouseSchema s = schema("24.8.4.13");
    List<String> ddl = s.createStatements();
    assertThat(ddl).hasSize(1);
    assertThat(ddl.get(0))
        .startsWith("CREATE TABLE IF NOT EXISTS default.events (")
        .contains("timestamp DateTime64(3),")
        .contains("ingested_at DateTime64(3) DEFAULT now64(3)")
        .contains("body String CODEC(ZSTD(3)),\n  body_base64 String CODEC(ZSTD(3)),")
        .contains("headers String CODEC(ZSTD(3)),")
        .contains("event_type LowCardinality(String),")
        .contains("ENGINE = MergeTree()")
        .contains("PARTITION BY (toYYYYMM(timestamp), organization_id)")
        .contains("ORDER BY (organization_id, timestamp, event_id)")
        .endsWith("SETTINGS non_replicated_deduplication_window = 1000");
    assertThat(s.insertSettings("tok"))
        .containsExactly(
            Map.entry("date_time_input_format", "best_effort"),
            Map.entry("async_insert", "0"),
            Map.entry("insert_deduplication_token", "tok"));
    assertThat(s.describe()).contains("no adaptation");
    assertThat(s.addColumn("default.events", EventSchema.EVENTS.column("body_base64"), "body"))
        .isEqualTo(
            "ALTER TABLE default.events ADD COLUMN body_base64 String CODEC(ZSTD(3)) AFTER body");
    assertThat(ddl.get(0))
        .contains(
            "session_id String,\n  source LowCardinality(String),\n  medium"
                + " LowCardinality(String),\n  campaign String,\n  term String");
  }

  @Test
  void clickHouse18AdaptsOnlyWhatItCannotDo() {
    ClickHouseSchema s = schema("18.16.1");
    String ddl = s.createStatements().get(0);
    assertThat(ddl)
        .contains("timestamp DateTime,")
        .contains("ingested_at DateTime DEFAULT now()")
        .contains("event_type String,")
        .contains("PARTITION BY (toYYYYMM(timestamp), organization_id)")
        .contains("ORDER BY (organization_id, timestamp, event_id)")
        .doesNotContain("CODEC")
        .doesNotContain("LowCardinality")
        .doesNotContain("SETTINGS");
    // Unknown settings are errors on old servers: only what they know is sent.
    assertThat(s.insertSettings("tok"))
        .containsExactly(Map.entry("date_time_input_format", "best_effort"));
    assertThat(s.describe())
        .contains("18.16.1")
        .contains("DateTime instead of DateTime64(3)")
        .contains("insert_deduplication_token");
  }

  @Test
  void asyncInsertIsSentExplicitlyAndWaitsForTheServer() {
    assertThat(schema("26.2.1", "clickhouse.async-insert", "true").insertSettings("t"))
        .containsEntry("async_insert", "1")
        .containsEntry("wait_for_async_insert", "1");
    assertThat(schema("26.2.1").insertSettings("t")).containsEntry("async_insert", "0");
  }

  @Test
  void monthPartitioningAndOwnDatabase() {
    List<String> ddl =
        schema("24.8", "clickhouse.partition-by", "month", "clickhouse.database", "trellis")
            .createStatements();
    assertThat(ddl.get(0)).isEqualTo("CREATE DATABASE IF NOT EXISTS trellis");
    assertThat(ddl.get(1))
        .startsWith("CREATE TABLE IF NOT EXISTS trellis.events (")
        .contains("PARTITION BY toYYYYMM(timestamp)\n");
  }

  @Test
  void aClusterGetsReplicatedStorageBehindADistributedTable() {
    ClickHouseSchema s = schema("24.8", "clickhouse.cluster", "prod", "clickhouse.database", "t");
    List<String> ddl = s.createStatements();
    assertThat(ddl).hasSize(3);
    assertThat(ddl.get(0)).isEqualTo("CREATE DATABASE IF NOT EXISTS t ON CLUSTER prod");
    assertThat(ddl.get(1))
        .startsWith("CREATE TABLE IF NOT EXISTS t.events_local ON CLUSTER prod (")
        .contains(
            "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/t/events_local', '{replica}')")
        .doesNotContain("non_replicated_deduplication_window");
    assertThat(ddl.get(2))
        .isEqualTo(
            "CREATE TABLE IF NOT EXISTS t.events ON CLUSTER prod AS t.events_local\n"
                + "ENGINE = Distributed(prod, t, events_local, cityHash64(toString(event_id)))");
    assertThat(s.insertTable()).isEqualTo("t.events");
    assertThat(s.insertSettings("tok")).containsEntry("insert_distributed_sync", "1");
    assertThat(s.insertRows(EventSchema.EVENTS.names()).names())
        .isEqualTo(EventSchema.EVENTS.names());
    assertThat(s.ddlSettings(true)).containsExactly(Map.entry("distributed_ddl_task_timeout", "5"));
    assertThat(s.ddlSettings(false))
        .containsExactly(Map.entry("distributed_ddl_task_timeout", "0"));
  }

  @Test
  void aSingleServerLeavesIngestedAtToTheColumnDefault() {
    ClickHouseSchema s = schema("24.8");
    assertThat(s.insertRows(EventSchema.EVENTS.names()).names())
        .isEqualTo(EventSchema.EVENTS.names().subList(0, EventSchema.EVENTS.names().size() - 1))
        .doesNotContain("ingested_at");
    assertThat(s.ddlSettings(true)).isEmpty();
  }

  @Test
  void dockerComposesClickHouse25_3GetsExactlyTheLayoutVerifiedOnThe26_5Engine() throws Exception {
    // docker-compose.yml runs clickhouse/clickhouse-server:25.3 with the default database and
    // table; ChdbSinkIT and ChdbServiceIT verify the layout chosen for 26.5.1.1.
    String compose = java.nio.file.Files.readString(java.nio.file.Path.of("docker-compose.yml"));
    assertThat(compose).contains("image: clickhouse/clickhouse-server:25.3");
    ClickHouseSchema compose25 = schema("25.3.1.2703");
    ClickHouseSchema verified = schema("26.5.1.1");
    assertThat(compose25.createStatements()).isEqualTo(verified.createStatements());
    assertThat(compose25.insertSettings("t")).isEqualTo(verified.insertSettings("t"));
    assertThat(compose25.describe()).endsWith("seed layout, no adaptation");
  }
}
