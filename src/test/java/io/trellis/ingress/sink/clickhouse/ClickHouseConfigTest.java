package io.trellis.ingress.sink.clickhouse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.ingress.cli.ServiceSettings;
import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.ConfigException;
import io.trellis.ingress.config.ConfigLoader;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClickHouseConfigTest {

  @Test
  void withoutUrlTheSinkIsOff() {
    assertThat(ClickHouseConfig.from(ServiceSettings.defaults())).isNull();
  }

  @Test
  void defaults() {
    ClickHouseConfig c =
        ClickHouseConfig.from(ServiceSettings.config(Map.of("clickhouse.url", "http://h:8123")));
    assertThat(c.urls()).containsExactly(URI.create("http://h:8123"));
    assertThat(c.user()).isEqualTo("default");
    assertThat(c.password()).isEmpty();
    assertThat(c.database()).isEqualTo("default");
    assertThat(c.table()).isEqualTo("events");
    assertThat(c.createTable()).isTrue();
    assertThat(c.partitioning()).isEqualTo(ClickHouseConfig.Partitioning.ORGANIZATION_MONTH);
    assertThat(c.cluster()).isEmpty();
    assertThat(c.clusterDdlTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.asyncInsert()).isFalse();
    assertThat(c.compress()).isTrue();
    assertThat(c.deduplicationWindow()).isEqualTo(1000);
    assertThat(c.batchLimits().maxRows()).isEqualTo(50_000);
    assertThat(c.batchLimits().maxAge()).isEqualTo(Duration.ofSeconds(1));
    assertThat(c.batchLimits().maxBytes()).isEqualTo(64L << 20);
  }

  @Test
  void environmentVariablesNamedByTheIssue() {
    Config config =
        ConfigLoader.load(
            ServiceSettings.all(),
            null,
            Map.of(
                "TRELLIS_CLICKHOUSE_URL", "https://a.example:8443, https://b.example:8443",
                "TRELLIS_CLICKHOUSE_USER", "ingest",
                "TRELLIS_CLICKHOUSE_PASSWORD", "hunter2-secret",
                "TRELLIS_CLICKHOUSE_DATABASE", "trellis",
                "TRELLIS_CLICKHOUSE_TABLE", "raw_events",
                "TRELLIS_CLICKHOUSE_PARTITION_BY", "month",
                "TRELLIS_CLICKHOUSE_ASYNC_INSERT", "true",
                "TRELLIS_CLICKHOUSE_CLUSTER", "prod",
                "TRELLIS_CLICKHOUSE_CLUSTER_DDL_TIMEOUT", "20s",
                "TRELLIS_CLICKHOUSE_REQUEST_TIMEOUT", "15s"),
            Map.of());
    ClickHouseConfig c = ClickHouseConfig.from(config);
    assertThat(c.urls())
        .containsExactly(
            URI.create("https://a.example:8443"), URI.create("https://b.example:8443"));
    assertThat(c.user()).isEqualTo("ingest");
    assertThat(c.password()).isEqualTo("hunter2-secret");
    assertThat(c.qualifiedTable()).isEqualTo("trellis.raw_events");
    assertThat(c.partitioning()).isEqualTo(ClickHouseConfig.Partitioning.MONTH);
    assertThat(c.asyncInsert()).isTrue();
    assertThat(c.cluster()).isEqualTo("prod");
    assertThat(c.clusterDdlTimeout()).isEqualTo(Duration.ofSeconds(20));
    assertThat(c.requestTimeout()).isEqualTo(Duration.ofSeconds(15));

    assertThat(config.masked().get("clickhouse.password")).isEqualTo("****");
    assertThat(config.toString()).doesNotContain("hunter2-secret");
    assertThat(c.toString()).doesNotContain("hunter2-secret").contains("ingest");
  }

  @Test
  void refusesWhatCannotWork() {
    for (Map<String, String> bad :
        List.of(
            Map.of("clickhouse.url", "ftp://h"),
            Map.of("clickhouse.url", "http://user:pw@h:8123"),
            Map.of("clickhouse.url", "http://h:8123", "clickhouse.table", "events; DROP TABLE x"),
            Map.of("clickhouse.url", "http://h:8123", "clickhouse.database", "1db"),
            Map.of("clickhouse.url", "http://h:8123", "clickhouse.partition-by", "day"),
            Map.of("clickhouse.url", "http://h:8123", "clickhouse.deduplication-window", "-1"),
            Map.of("clickhouse.url", "http://h:8123", "clickhouse.cluster-ddl-timeout", "500ms"))) {
      assertThatThrownBy(() -> ClickHouseConfig.from(ServiceSettings.config(bad)))
          .as("%s", bad)
          .isInstanceOf(ConfigException.class)
          .hasMessageStartingWith("clickhouse.")
          .hasMessageNotContaining("pw@");
    }
  }
}
