package io.trellis.ingress.cli;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.auth.AuthConfig;
import io.trellis.ingress.auth.warden.WardenConfig;
import io.trellis.ingress.capture.CaptureConfig;
import io.trellis.ingress.capture.IpRanges;
import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.ConfigException;
import io.trellis.ingress.enrich.EnrichConfig;
import io.trellis.ingress.http.CapacityConfig;
import io.trellis.ingress.http.ClientConfig;
import io.trellis.ingress.http.HttpConfig;
import io.trellis.ingress.limits.RateLimitConfig;
import io.trellis.ingress.live.LiveConfig;
import io.trellis.ingress.ops.OpsConfig;
import io.trellis.ingress.sink.bigquery.BigQueryConfig;
import io.trellis.ingress.sink.clickhouse.ClickHouseConfig;
import io.trellis.ingress.sink.files.FilesSinkConfig;
import io.trellis.ingress.spool.SpoolConfig;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Every part's configuration, built and checked as a whole before anything is created: each value,
 * then every rule that spans settings. {@code serve} starts from it and {@code config} prints only
 * after it was built, so both refuse exactly the same configurations, and a refused start leaves
 * nothing behind (no key store, no spool, no sink files).
 *
 * @param warden null in local mode
 * @param clickhouse null when the ClickHouse sink is off
 * @param bigquery null when the BigQuery sink is off
 */
record ServiceConfig(
    Config source,
    Path dataDir,
    HttpConfig http,
    ClientConfig clients,
    CapacityConfig capacity,
    CaptureConfig capture,
    AuthConfig auth,
    WardenConfig warden,
    RateLimitConfig rateLimits,
    OpsConfig ops,
    LiveConfig live,
    SpoolConfig spool,
    FilesSinkConfig files,
    ClickHouseConfig clickhouse,
    BigQueryConfig bigquery,
    EnrichConfig enrich) {

  ServiceConfig {
    requireNonNull(source, "source is null");
    requireNonNull(dataDir, "dataDir is null");
    requireNonNull(http, "http is null");
    requireNonNull(clients, "clients is null");
    requireNonNull(capacity, "capacity is null");
    requireNonNull(capture, "capture is null");
    requireNonNull(auth, "auth is null");
    requireNonNull(rateLimits, "rateLimits is null");
    requireNonNull(ops, "ops is null");
    requireNonNull(live, "live is null");
    requireNonNull(spool, "spool is null");
    requireNonNull(files, "files is null");
    requireNonNull(enrich, "enrich is null");
  }

  /** Builds and checks everything; the first problem is one {@link ConfigException} line. */
  static ServiceConfig from(Config c) {
    try {
      return build(c);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
  }

  private static ServiceConfig build(Config c) {
    String dir = c.string(ServiceSettings.DATA_DIR).trim();
    if (dir.isEmpty()) {
      throw new ConfigException("data-dir: must not be empty");
    }
    Path dataDir = Path.of(dir);
    HttpConfig http = HttpConfig.from(c);
    port("port", http.port());
    ClientConfig clients = ClientConfig.from(c);
    CapacityConfig capacity = CapacityConfig.from(c);
    CaptureConfig capture = CaptureConfig.from(c);
    try {
      IpRanges.parse(capture.trustedProxies());
    } catch (IllegalArgumentException e) {
      throw new ConfigException("capture.trusted-proxies: " + e.getMessage());
    }
    AuthConfig auth = AuthConfig.from(c);
    WardenConfig warden = auth.mode().equals("warden") ? WardenConfig.from(c) : null;
    RateLimitConfig rateLimits = RateLimitConfig.from(c);
    OpsConfig ops = OpsConfig.from(c);
    port("admin.port", ops.adminPort());
    if (ops.adminEnabled() && ops.adminPort() != 0 && ops.adminPort() == http.port()) {
      throw new ConfigException("admin.port: must differ from port (both are " + http.port() + ")");
    }
    LiveConfig live = LiveConfig.from(c);
    SpoolConfig spool = SpoolConfig.from(c);
    if (spool.maxRecordBytes() < http.bodyMaxBytes()) {
      throw new ConfigException(
          "spool.max-record-size must be at least limits.body-max: a body the service accepts"
              + " must fit in one spool record");
    }
    FilesSinkConfig files = FilesSinkConfig.from(c, dataDir);
    ClickHouseConfig clickhouse = ClickHouseConfig.from(c);
    if (clickhouse != null
        && !clickhouse.caCertificate().isEmpty()
        && !Files.isReadable(Path.of(clickhouse.caCertificate()))) {
      throw new ConfigException(
          "clickhouse.ca-certificate: cannot read " + clickhouse.caCertificate());
    }
    BigQueryConfig bigquery = BigQueryConfig.enabled(c) ? BigQueryConfig.from(c, dataDir) : null;
    if (bigquery != null
        && bigquery.credentials().isPresent()
        && !Files.isReadable(bigquery.credentials().get())) {
      throw new ConfigException("bigquery.credentials: cannot read the key file");
    }
    EnrichConfig enrich = EnrichConfig.from(c);
    for (String db : enrich.geoipDatabases()) {
      if (!Files.isReadable(Path.of(db))) {
        throw new ConfigException("enrich.geoip.database: cannot read " + db);
      }
    }
    if (enrich.referrerFile().isPresent()
        && !Files.isReadable(Path.of(enrich.referrerFile().get()))) {
      throw new ConfigException("enrich.referrer.file: cannot read " + enrich.referrerFile().get());
    }
    if (!files.enabled() && clickhouse == null && bigquery == null) {
      throw new ConfigException(
          "no sink is enabled: files.enabled is false and neither clickhouse.url nor"
              + " bigquery.project is set");
    }
    return new ServiceConfig(
        c,
        dataDir,
        http,
        clients,
        capacity,
        capture,
        auth,
        warden,
        rateLimits,
        ops,
        live,
        spool,
        files,
        clickhouse,
        bigquery,
        enrich);
  }

  private static void port(String key, int port) {
    if (port < 0 || port > 65535) {
      throw new ConfigException(key + ": expected 0 to 65535, got " + port);
    }
  }
}
