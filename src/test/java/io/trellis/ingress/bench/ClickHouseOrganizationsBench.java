package io.trellis.ingress.bench;

import io.trellis.ingress.capture.Uuids;
import io.trellis.ingress.cli.ServiceSettings;
import io.trellis.ingress.event.SpooledEvent;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.SinkBatch;
import io.trellis.ingress.sink.clickhouse.ClickHouseConfig;
import io.trellis.ingress.sink.clickhouse.ClickHouseSink;
import io.trellis.ingress.testing.ClickHouseServer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Not a test: the ClickHouse sink alone writing the same number of events spread over 1, 100 and
 * 5,000 organizations, in spool-sized batches, and what that costs: inserts per batch (the sink
 * keeps each insert within the server's {@code max_partitions_per_insert_block}), parts created and
 * rows/s. With {@code partition-by: month} for comparison.
 *
 * <p>Run with {@code bench/clickhouse-organizations.sh [events] [batch-rows] [chdb|server]}: the
 * ClickHouse 26.5 engine behind the test front (default), or the installed {@code
 * clickhouse-server}.
 */
public final class ClickHouseOrganizationsBench {
  public static void main(String[] args) throws Exception {
    int events = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    int batchRows = args.length > 1 ? Integer.parseInt(args[1]) : 50_000;
    boolean chdb = args.length <= 2 || args[2].equals("chdb");
    try (ClickHouseServer ch =
        chdb
            ? ClickHouseServer.startChdb(ClickHouseServer.findChdbLibrary())
            : ClickHouseServer.start(ClickHouseServer.findBinary())) {
      String db = ch.newDatabase("orgs");
      System.out.printf(
          "ClickHouse %s%s; %,d events of ~600 bytes in batches of %,d rows%n",
          ch.version(), chdb ? " (chDB engine behind the test front)" : "", events, batchRows);
      System.out.printf(
          "%-14s %-20s %8s %10s %10s %12s%n",
          "organizations", "partition-by", "batches", "inserts", "parts", "rows/s");
      for (String partitioning : List.of("organization-month", "month")) {
        for (int orgs : List.of(1, 100, 5_000)) {
          run(ch, db, partitioning, orgs, events, batchRows);
        }
      }
    }
  }

  private static void run(
      ClickHouseServer ch, String db, String partitioning, int orgs, int events, int batchRows)
      throws Exception {
    String table = "t_" + partitioning.replace('-', '_') + "_" + orgs;
    ClickHouseConfig config =
        ClickHouseConfig.from(
            ServiceSettings.config(
                Map.of(
                    "clickhouse.url",
                    ch.url().toString(),
                    "clickhouse.user",
                    ch.user(),
                    "clickhouse.password",
                    ch.password(),
                    "clickhouse.database",
                    db,
                    "clickhouse.table",
                    table,
                    "clickhouse.partition-by",
                    partitioning)));
    List<SinkBatch> batches = new ArrayList<>();
    long now = System.currentTimeMillis();
    long offset = 0;
    List<SpooledEvent> items = new ArrayList<>();
    for (int i = 0; i < events; i++) {
      items.add(new SpooledEvent(offset++, event("org-" + (i % orgs), now + i)));
      if (items.size() == batchRows) {
        batches.add(new SinkBatch(items));
        items = new ArrayList<>();
      }
    }
    if (!items.isEmpty()) {
      batches.add(new SinkBatch(items));
    }
    try (ClickHouseSink sink = new ClickHouseSink(config)) {
      sink.start();
      long inserts = sink.inserts();
      long t0 = System.nanoTime();
      for (SinkBatch b : batches) {
        sink.write(b);
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      inserts = sink.inserts() - inserts;
      long stored = ch.number("SELECT count() FROM " + db + "." + table);
      long distinct = ch.number("SELECT uniqExact(event_id) FROM " + db + "." + table);
      long parts =
          ch.number(
              "SELECT count() FROM system.parts WHERE database = '"
                  + db
                  + "' AND table = '"
                  + table
                  + "'");
      if (stored != events || distinct != events) {
        throw new AssertionError(stored + " rows, " + distinct + " distinct, expected " + events);
      }
      System.out.printf(
          "%,14d %-20s %8d %10d %10d %,12.0f%n",
          orgs, partitioning, batches.size(), inserts, parts, events / seconds);
    }
  }

  private static TrafficEvent event(String org, long millis) {
    return new TrafficEvent(
        org,
        Uuids.v7(millis).toString(),
        millis,
        "POST",
        "https://collect.example.com/events?utm_source=newsletter&utm_medium=email",
        "{\"content-type\":\"application/json\",\"user-agent\":\"Mozilla/5.0 (X11; Linux x86_64)"
            + " Gecko/20100101 Firefox/128.0\",\"accept-language\":\"en-US,en;q=0.5\"}",
        "{\"utm_source\":\"newsletter\",\"utm_medium\":\"email\"}",
        "{\"event\":\"pageview\",\"page\":\"/pricing\",\"session_id\":\"s-42\","
            + "\"properties\":{\"plan\":\"pro\",\"value\":49.5}}",
        "203.0.113.7",
        "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0",
        "https://www.example.com/blog/post-1",
        "pageview",
        "",
        "s-42",
        "newsletter",
        "email",
        "");
  }
}
