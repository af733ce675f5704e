package io.trellis.ingress.sink.clickhouse;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.event.Column;
import io.trellis.ingress.event.EventSchema;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one place that decides, from the server's {@code SELECT version()}, which table layout and
 * which insert settings the sink uses. The columns are the {@link EventSchema}'s, in its order,
 * each typed from its {@link io.trellis.ingress.event.ColumnType}; on a current server:
 *
 * <pre>
 * organization_id String, event_id UUID, timestamp DateTime64(3),
 * method LowCardinality(String), url/headers/query_params/body/body_base64 String CODEC(ZSTD(3)),
 * ip String, user_agent/referer String CODEC(ZSTD(3)), event_type LowCardinality(String),
 * click_id String, session_id String, source/medium LowCardinality(String), campaign String,
 * ingested_at DateTime64(3) DEFAULT now64(3)
 * ENGINE = MergeTree PARTITION BY (toYYYYMM(timestamp), organization_id)
 * ORDER BY (organization_id, timestamp, event_id)
 * SETTINGS non_replicated_deduplication_window = N
 * </pre>
 *
 * <p>A table created by an earlier version gains the columns it lacks at start-up, each {@code
 * AFTER} the column before it in the schema ({@link #addColumn}), so an upgraded table and a new
 * one have the same layout.
 *
 * <p>An older server only loses what it cannot do, feature by feature (thresholds are the first
 * release known to have the feature, rounded up where unsure): {@code DateTime64}/{@code now64}
 * (20.1, else {@code DateTime}/{@code now()}: whole seconds), column codecs (19.11, else the
 * server's default LZ4), {@code LowCardinality} without the experimental flag (19.3, else {@code
 * String}), the {@code async_insert} setting (21.11, else not sent: such servers only insert
 * synchronously), {@code insert_deduplication_token} and {@code
 * non_replicated_deduplication_window} (22.2, else a retried batch can be stored twice). Immutable.
 */
public final class ClickHouseSchema {
  /** Which optional features the server has. */
  public record Features(
      boolean dateTime64,
      boolean codecs,
      boolean lowCardinality,
      boolean asyncInsert,
      boolean deduplicationToken) {

    public static Features of(ServerVersion v) {
      return new Features(
          v.atLeast(20, 1),
          v.atLeast(19, 11),
          v.atLeast(19, 3),
          v.atLeast(21, 11),
          v.atLeast(22, 2));
    }
  }

  private static final String BIG_TEXT_CODEC = " CODEC(ZSTD(3))";

  private final ClickHouseConfig config;
  private final ServerVersion version;
  private final Features features;
  private final EventSchema events;

  public ClickHouseSchema(ClickHouseConfig config, ServerVersion version) {
    this(config, version, EventSchema.EVENTS);
  }

  public ClickHouseSchema(ClickHouseConfig config, ServerVersion version, EventSchema events) {
    this.config = requireNonNull(config, "config is null");
    this.version = requireNonNull(version, "version is null");
    this.events = requireNonNull(events, "events is null");
    this.features = Features.of(version);
  }

  /** The event schema the table holds. */
  public EventSchema events() {
    return events;
  }

  public ServerVersion version() {
    return version;
  }

  public Features features() {
    return features;
  }

  /** The type of {@code timestamp} and {@code ingested_at}. */
  public String timeType() {
    return features.dateTime64() ? "DateTime64(3)" : "DateTime";
  }

  /** The table inserts go to (the Distributed table on a cluster). */
  public String insertTable() {
    return config.qualifiedTable();
  }

  /** True when the sink writes to a cluster ({@code clickhouse.cluster} is set). */
  public boolean clustered() {
    return !config.cluster().isEmpty();
  }

  /**
   * True when the sink sends {@code ingested_at} itself, the same for every try of a batch. On a
   * cluster the rows land in ReplicatedMergeTree tables, whose deduplication of a retried insert
   * (the only one before 22.2, which has no {@code insert_deduplication_token}) compares the stored
   * block: a column default of {@code now()} would make every retry a different block. It also
   * covers a Distributed insert that failed after storing some shards' rows.
   */
  public boolean sendsIngestedAt() {
    return clustered();
  }

  /**
   * The rows each insert writes: the schema's columns that the table has ({@code present}), in
   * schema order, the write time only when {@link #sendsIngestedAt()}.
   */
  public EventRows insertRows(Collection<String> present) {
    List<Column> out = new ArrayList<>();
    for (Column c : events.columns()) {
      if (present.contains(c.name()) && (!c.writeTime() || sendsIngestedAt())) {
        out.add(c);
      }
    }
    return new EventRows(out);
  }

  /**
   * The settings sent with the {@link #createStatements()}: on a cluster, how long one {@code ON
   * CLUSTER} statement waits for every node ({@code clickhouse.cluster-ddl-timeout}), or, without
   * {@code waitForAll}, that it only queues the statement (0, understood by every version). A node
   * that is down runs the statements from the cluster's DDL queue when it returns; the wait only
   * bounds the start-up.
   */
  public Map<String, String> ddlSettings(boolean waitForAll) {
    if (!clustered()) {
      return Map.of();
    }
    long seconds = waitForAll ? (config.clusterDdlTimeout().toMillis() + 999) / 1000 : 0;
    return Map.of("distributed_ddl_task_timeout", Long.toString(seconds));
  }

  /** The MergeTree table that holds the rows (a local replicated table on a cluster). */
  public String storageTable() {
    return config.cluster().isEmpty()
        ? config.qualifiedTable()
        : config.qualifiedTable() + "_local";
  }

  /** The column definitions, in table order. */
  public String columns() {
    List<String> out = new ArrayList<>();
    for (Column c : events.columns()) {
      out.add(definition(c));
    }
    return String.join(",\n  ", out);
  }

  /** One column's definition: name, type for this server, and default. */
  public String definition(Column c) {
    return definition(c, features);
  }

  /** One column's definition on a server with these features. */
  public static String definition(Column c, Features features) {
    String big = features.codecs() ? BIG_TEXT_CODEC : "";
    return c.name()
        + " "
        + switch (c.type()) {
          case ID -> "UUID";
          case TIME ->
              (features.dateTime64() ? "DateTime64(3)" : "DateTime")
                  + (c.writeTime()
                      ? " DEFAULT " + (features.dateTime64() ? "now64(3)" : "now()")
                      : "");
          case KEYWORD -> features.lowCardinality() ? "LowCardinality(String)" : "String";
          case STRING -> "String";
          case TEXT, JSON_OBJECT, PAYLOAD -> "String" + big;
        };
  }

  /**
   * The schema's columns missing from a table that has the {@code present} ones, each with the
   * column it goes after (the one before it in the schema), in the order to add them.
   */
  public List<Map.Entry<Column, String>> missingColumns(Collection<String> present) {
    List<Map.Entry<Column, String>> out = new ArrayList<>();
    String previous = null;
    for (Column c : events.columns()) {
      if (!present.contains(c.name())) {
        out.add(Map.entry(c, previous == null ? "" : previous));
      }
      previous = c.name();
    }
    return out;
  }

  /**
   * Adds a column to a table of this layout that lacks it, after {@code after} (first when empty).
   * The caller checks {@code system.columns} first: 18.x servers have no {@code ADD COLUMN IF NOT
   * EXISTS}.
   *
   * @param table a database-qualified table: {@link #storageTable()} or, on a cluster, {@link
   *     #insertTable()}
   */
  public String addColumn(String table, Column column, String after) {
    String onCluster = config.cluster().isEmpty() ? "" : " ON CLUSTER " + config.cluster();
    return "ALTER TABLE "
        + table
        + onCluster
        + " ADD COLUMN "
        + definition(column)
        + (after.isEmpty() ? " FIRST" : " AFTER " + after);
  }

  /** The statements that create the database and the table(s) when missing, in order. */
  public List<String> createStatements() {
    String onCluster = config.cluster().isEmpty() ? "" : " ON CLUSTER " + config.cluster();
    List<String> out = new ArrayList<>();
    if (!config.database().equals("default")) {
      out.add("CREATE DATABASE IF NOT EXISTS " + config.database() + onCluster);
    }
    String engine;
    String settings = "";
    if (config.cluster().isEmpty()) {
      engine = "MergeTree()";
      if (features.deduplicationToken() && config.deduplicationWindow() > 0) {
        settings =
            "\nSETTINGS non_replicated_deduplication_window = " + config.deduplicationWindow();
      }
    } else {
      String local = config.table() + "_local";
      engine =
          "ReplicatedMergeTree('/clickhouse/tables/{shard}/"
              + config.database()
              + "/"
              + local
              + "', '{replica}')";
    }
    out.add(
        "CREATE TABLE IF NOT EXISTS "
            + storageTable()
            + onCluster
            + " (\n  "
            + columns()
            + "\n)\nENGINE = "
            + engine
            + "\nPARTITION BY "
            + config.partitioning().expression()
            + "\nORDER BY (organization_id, timestamp, event_id)"
            + settings);
    if (!config.cluster().isEmpty()) {
      // A deterministic sharding key sends a retried batch to the same shards as before. The id
      // is hashed as text: servers before 19.x refuse cityHash64 of a UUID (error 43) on every
      // insert.
      out.add(
          "CREATE TABLE IF NOT EXISTS "
              + config.qualifiedTable()
              + onCluster
              + " AS "
              + storageTable()
              + "\nENGINE = Distributed("
              + config.cluster()
              + ", "
              + config.database()
              + ", "
              + config.table()
              + "_local, cityHash64(toString(event_id)))");
    }
    return out;
  }

  /**
   * The settings sent with every insert. {@code token} is the batch's deduplication token, sent
   * only to servers that understand it.
   */
  public Map<String, String> insertSettings(String token) {
    Map<String, String> s = new LinkedHashMap<>();
    // Times are sent as ISO-8601 text with milliseconds and 'Z'.
    s.put("date_time_input_format", "best_effort");
    if (features.asyncInsert()) {
      // Sent explicitly: the server default changed (on by default from 26.2).
      s.put("async_insert", config.asyncInsert() ? "1" : "0");
      if (config.asyncInsert()) {
        // The spool forgets a batch once the insert returns, so it must return only when stored.
        s.put("wait_for_async_insert", "1");
      }
    }
    if (features.deduplicationToken()) {
      s.put("insert_deduplication_token", token);
    }
    if (!config.cluster().isEmpty()) {
      // Return only when the shards have the rows, not when they are queued on this node.
      s.put("insert_distributed_sync", "1");
    }
    return s;
  }

  /** One line for the start-up log: the version and what was adapted to it. */
  public String describe() {
    List<String> adapted = new ArrayList<>();
    if (!features.dateTime64()) {
      adapted.add("DateTime instead of DateTime64(3): whole seconds (DateTime64 needs 20.1)");
    }
    if (!features.codecs()) {
      adapted.add("no ZSTD column codecs (needs 19.11)");
    }
    if (!features.lowCardinality()) {
      adapted.add("String instead of LowCardinality(String) (needs 19.3)");
    }
    if (!features.asyncInsert()) {
      adapted.add("async_insert not sent (needs 21.11)");
    }
    if (!features.deduplicationToken()) {
      adapted.add(
          "no insert_deduplication_token: a batch retried after a lost answer may be stored twice"
              + " (needs 22.2)");
    }
    return "ClickHouse "
        + version
        + (adapted.isEmpty() ? ": seed layout, no adaptation" : ": " + String.join("; ", adapted));
  }

  @Override
  public String toString() {
    return "ClickHouseSchema{version=" + version + ", table=" + insertTable() + "}";
  }
}
