package io.trellis.ingress.sink.clickhouse;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.ConfigException;
import io.trellis.ingress.config.Durations;
import io.trellis.ingress.config.Setting;
import io.trellis.ingress.config.SettingType;
import io.trellis.ingress.config.UrlSecrets;
import io.trellis.ingress.sink.BatchLimits;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Where and how the ClickHouse sink writes. The sink is on when {@code clickhouse.url} is set. The
 * password is a secret: {@link #toString()} never shows it, nor any credentials in a URL.
 */
public record ClickHouseConfig(
    List<URI> urls,
    String user,
    String password,
    String database,
    String table,
    boolean createTable,
    Partitioning partitioning,
    String cluster,
    Duration clusterDdlTimeout,
    boolean asyncInsert,
    boolean compress,
    int deduplicationWindow,
    Duration connectTimeout,
    Duration requestTimeout,
    String caCertificate,
    BatchLimits batchLimits) {

  /** How the events table is partitioned. */
  public enum Partitioning {
    /** The seed's {@code PARTITION BY (toYYYYMM(timestamp), organization_id)}. */
    ORGANIZATION_MONTH("organization-month", "(toYYYYMM(timestamp), organization_id)"),
    /** {@code PARTITION BY toYYYYMM(timestamp)}: fewer parts per insert with many organizations. */
    MONTH("month", "toYYYYMM(timestamp)");

    private final String setting;
    private final String expression;

    Partitioning(String setting, String expression) {
      this.setting = setting;
      this.expression = expression;
    }

    public String expression() {
      return expression;
    }

    static Partitioning parse(String value) {
      for (Partitioning p : values()) {
        if (p.setting.equals(value.trim().toLowerCase(Locale.ROOT))) {
          return p;
        }
      }
      throw new ConfigException(
          "clickhouse.partition-by: expected organization-month or month, got '" + value + "'");
    }

    @Override
    public String toString() {
      return setting;
    }
  }

  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  public static final List<Setting> SETTINGS =
      List.of(
          Setting.of(
              "clickhouse.url",
              SettingType.LIST,
              "",
              "ClickHouse HTTP(S) URL(s), comma-separated, e.g. http://127.0.0.1:8123; empty"
                  + " switches the ClickHouse sink off. With several, the next is tried after a"
                  + " connection failure."),
          Setting.of("clickhouse.user", SettingType.STRING, "default", "ClickHouse user."),
          Setting.secret("clickhouse.password", SettingType.STRING, "", "ClickHouse password."),
          Setting.of(
              "clickhouse.database",
              SettingType.STRING,
              "default",
              "Database of the events table."),
          Setting.of("clickhouse.table", SettingType.STRING, "events", "Name of the events table."),
          Setting.of(
              "clickhouse.create-table",
              SettingType.BOOLEAN,
              "true",
              "Create the database and the events table at start-up when they are missing."),
          Setting.of(
              "clickhouse.partition-by",
              SettingType.STRING,
              "organization-month",
              "organization-month: PARTITION BY (toYYYYMM(timestamp), organization_id), cheap to"
                  + " drop one organization, one part per organization per insert; month: PARTITION"
                  + " BY toYYYYMM(timestamp), for many organizations."),
          Setting.of(
              "clickhouse.cluster",
              SettingType.STRING,
              "",
              "Cluster name: creates TABLE_local (ReplicatedMergeTree) ON CLUSTER and a Distributed"
                  + " TABLE over it; empty for a single server."),
          Setting.of(
              "clickhouse.cluster-ddl-timeout",
              SettingType.DURATION,
              "5s",
              "Longest wait for every node of the cluster to run one ON CLUSTER statement"
                  + " (distributed_ddl_task_timeout, whole seconds); nodes that are down run it"
                  + " when they return."),
          Setting.of(
              "clickhouse.async-insert",
              SettingType.BOOLEAN,
              "false",
              "Value of async_insert sent with every insert (servers 21.11+); with true the insert"
                  + " still waits until the server has stored the rows."),
          Setting.of(
              "clickhouse.compress",
              SettingType.BOOLEAN,
              "true",
              "Compress insert requests (LZ4 over HTTP, understood by every server version)."),
          Setting.of(
              "clickhouse.deduplication-window",
              SettingType.INT,
              "1000",
              "non_replicated_deduplication_window of a created table (servers 22.2+): how many"
                  + " recent inserts a retried batch is deduplicated against; 0 turns it off."),
          Setting.of(
              "clickhouse.connect-timeout",
              SettingType.DURATION,
              "5s",
              "Timeout for connecting to ClickHouse."),
          Setting.of(
              "clickhouse.request-timeout",
              SettingType.DURATION,
              "60s",
              "Longest wait for an answer to one insert; the batch is retried after it."),
          Setting.of(
              "clickhouse.ca-certificate",
              SettingType.STRING,
              "",
              "PEM file of the CA that signed the server certificate (https URLs); empty uses"
                  + " the JVM trust store."),
          Setting.of(
              "clickhouse.batch-max-rows",
              SettingType.INT,
              "50000",
              "Most rows in one insert (ClickHouse prefers 10,000 to 100,000)."),
          Setting.of(
              "clickhouse.batch-max-bytes",
              SettingType.SIZE,
              "64MiB",
              "Most encoded event bytes in one insert (a batch's records are held in direct"
                  + " memory, off the heap, until its insert is stored)."),
          Setting.of(
              "clickhouse.batch-max-age",
              SettingType.DURATION,
              "1s",
              "Longest an event waits for its insert to fill (about one insert per second)."));

  public ClickHouseConfig {
    urls = List.copyOf(urls);
    requireNonNull(user, "user is null");
    requireNonNull(password, "password is null");
    requireNonNull(database, "database is null");
    requireNonNull(table, "table is null");
    requireNonNull(partitioning, "partitioning is null");
    requireNonNull(cluster, "cluster is null");
    requireNonNull(clusterDdlTimeout, "clusterDdlTimeout is null");
    requireNonNull(connectTimeout, "connectTimeout is null");
    requireNonNull(requestTimeout, "requestTimeout is null");
    requireNonNull(caCertificate, "caCertificate is null");
    requireNonNull(batchLimits, "batchLimits is null");
  }

  /** The sink's configuration, or null when {@code clickhouse.url} is empty (sink off). */
  public static ClickHouseConfig from(Config c) {
    List<String> raw = c.list("clickhouse.url");
    if (raw.isEmpty()) {
      return null;
    }
    List<URI> urls = raw.stream().map(ClickHouseConfig::parseUrl).toList();
    int window = c.integer("clickhouse.deduplication-window");
    if (window < 0) {
      throw new ConfigException("clickhouse.deduplication-window: must be 0 or more");
    }
    Duration ddlTimeout = c.duration("clickhouse.cluster-ddl-timeout");
    if (ddlTimeout.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new ConfigException("clickhouse.cluster-ddl-timeout: must be at least 1s");
    }
    return new ClickHouseConfig(
        urls,
        c.string("clickhouse.user"),
        c.string("clickhouse.password"),
        identifier("clickhouse.database", c.string("clickhouse.database")),
        identifier("clickhouse.table", c.string("clickhouse.table")),
        c.bool("clickhouse.create-table"),
        Partitioning.parse(c.string("clickhouse.partition-by")),
        c.string("clickhouse.cluster").isBlank()
            ? ""
            : identifier("clickhouse.cluster", c.string("clickhouse.cluster")),
        ddlTimeout,
        c.bool("clickhouse.async-insert"),
        c.bool("clickhouse.compress"),
        window,
        c.duration("clickhouse.connect-timeout"),
        c.duration("clickhouse.request-timeout"),
        c.string("clickhouse.ca-certificate").trim(),
        batchLimits(c));
  }

  private static BatchLimits batchLimits(Config c) {
    int rows = c.integer("clickhouse.batch-max-rows");
    if (rows < 1) {
      throw new ConfigException("clickhouse.batch-max-rows: must be at least 1");
    }
    long bytes = c.size("clickhouse.batch-max-bytes");
    if (bytes < 1) {
      throw new ConfigException("clickhouse.batch-max-bytes: must be at least 1 byte");
    }
    return new BatchLimits(rows, bytes, c.duration("clickhouse.batch-max-age"));
  }

  /** The qualified name inserts go to: {@code database.table}. */
  public String qualifiedTable() {
    return database + "." + table;
  }

  private static URI parseUrl(String text) {
    URI uri;
    try {
      uri = URI.create(text.trim());
    } catch (IllegalArgumentException e) {
      throw new ConfigException("clickhouse.url: not a URL: " + redact(text));
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
      throw new ConfigException(
          "clickhouse.url: expected http://HOST:PORT or https://HOST:PORT, got " + redact(text));
    }
    if (uri.getUserInfo() != null) {
      throw new ConfigException(
          "clickhouse.url: put credentials in clickhouse.user and clickhouse.password, not in the"
              + " URL");
    }
    return uri;
  }

  /** Database, table and cluster names go into DDL unquoted, so they must be plain identifiers. */
  private static String identifier(String key, String value) {
    String v = value.trim();
    if (!IDENTIFIER.matcher(v).matches()) {
      throw new ConfigException(
          key + ": expected letters, digits and '_' (not starting with a digit), got '" + v + "'");
    }
    return v;
  }

  private static String redact(String url) {
    return UrlSecrets.mask(url);
  }

  @Override
  public String toString() {
    return "ClickHouseConfig{urls="
        + UrlSecrets.mask(urls.toString())
        + ", user="
        + user
        + ", password="
        + (password.isEmpty() ? "(none)" : "****")
        + ", table="
        + qualifiedTable()
        + ", createTable="
        + createTable
        + ", partitionBy="
        + partitioning
        + (cluster.isEmpty() ? "" : ", cluster=" + cluster)
        + ", asyncInsert="
        + asyncInsert
        + ", compress="
        + compress
        + ", requestTimeout="
        + Durations.format(requestTimeout)
        + "}";
  }
}
