package io.trellis.ingress.sink.clickhouse;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.cli.ServiceSettings;
import io.trellis.ingress.testing.ChdbEngine;
import io.trellis.ingress.testing.ClickHouseServer;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The sink contract against the ClickHouse 26.5 engine of {@code libchdb.so}. */
@ChdbEngine
class ChdbSinkIT extends ClickHouseSinkContract {

  @Test
  void theEngineIsACurrentClickHouseAndGetsTheSeedLayoutUnadapted(ClickHouseServer server)
      throws Exception {
    assertThat(server.version()).startsWith("26.5.");
    String db = server.newDatabase("seed");
    ClickHouseConfig config =
        ClickHouseConfig.from(
            ServiceSettings.config(
                Map.of(
                    "clickhouse.url",
                    server.url().toString(),
                    "clickhouse.database",
                    db,
                    "clickhouse.table",
                    "events")));
    try (ClickHouseSink sink = new ClickHouseSink(config)) {
      sink.start();
      assertThat(sink.schema().describe()).endsWith("seed layout, no adaptation");
      assertThat(
              server
                  .query(
                      "SELECT partition_key, sorting_key FROM system.tables WHERE database = '"
                          + db
                          + "' AND name = 'events'")
                  .trim())
          .isEqualTo(
              "(toYYYYMM(timestamp), organization_id)\torganization_id, timestamp, event_id");
      assertThat(
              server.query(
                  "SELECT name, type FROM system.columns WHERE database = '"
                      + db
                      + "' AND table = 'events' AND type LIKE 'DateTime%' ORDER BY name"))
          .isEqualTo(
              "client_timestamp\tDateTime64(3)\nevent_time\tDateTime64(3)\n"
                  + "ingested_at\tDateTime64(3)\nsent_at\tDateTime64(3)\n"
                  + "timestamp\tDateTime64(3)\n");
    }
  }
}
