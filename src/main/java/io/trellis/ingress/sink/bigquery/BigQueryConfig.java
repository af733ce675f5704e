package io.trellis.ingress.sink.bigquery;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.ConfigException;
import io.trellis.ingress.config.Setting;
import io.trellis.ingress.config.SettingType;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Where and how events are stored in BigQuery. The sink is on when {@code bigquery.project} is set.
 *
 * <p>The endpoint overrides exist so a local server speaking the same protocols (tests, an
 * emulator) can stand in for Google's: an {@code http://} endpoint is reached in plaintext and,
 * unless a key file is given, without credentials.
 *
 * @param stateDirectory where the sink keeps its write-stream state (under the data directory)
 */
public record BigQueryConfig(
    String project,
    String dataset,
    String table,
    Optional<Path> credentials,
    Optional<String> location,
    boolean createTable,
    Optional<URI> storageEndpoint,
    Optional<URI> restEndpoint,
    Duration appendTimeout,
    Path stateDirectory) {

  public static final List<Setting> SETTINGS =
      List.of(
          Setting.of(
              "bigquery.project",
              SettingType.STRING,
              "",
              "Google Cloud project of the BigQuery table; setting it turns the BigQuery sink on."),
          Setting.of(
              "bigquery.dataset", SettingType.STRING, "trellis", "BigQuery dataset of the table."),
          Setting.of("bigquery.table", SettingType.STRING, "events", "BigQuery table for events."),
          Setting.secret(
              "bigquery.credentials",
              SettingType.STRING,
              "",
              "Service-account key file (JSON); empty means Application Default Credentials."),
          Setting.of(
              "bigquery.location",
              SettingType.STRING,
              "",
              "Location (e.g. US, EU, europe-west1) of a dataset created by the sink; empty means"
                  + " BigQuery's default."),
          Setting.of(
              "bigquery.create-table",
              SettingType.BOOLEAN,
              "true",
              "Create the dataset and the table when missing; when off, a missing table is a"
                  + " start-up error."),
          Setting.of(
              "bigquery.storage-endpoint",
              SettingType.STRING,
              "",
              "Storage Write API endpoint (host:port, or http://host:port for plaintext);"
                  + " empty means Google's."),
          Setting.of(
              "bigquery.rest-endpoint",
              SettingType.STRING,
              "",
              "BigQuery REST API root URL for table metadata (e.g. http://127.0.0.1:9050);"
                  + " empty means Google's."),
          Setting.of(
              "bigquery.append-timeout",
              SettingType.DURATION,
              "60s",
              "How long one append waits for BigQuery's acknowledgement before it is retried."));

  public BigQueryConfig {
    requireNonNull(project, "project is null");
    requireNonNull(dataset, "dataset is null");
    requireNonNull(table, "table is null");
    requireNonNull(credentials, "credentials is null");
    requireNonNull(location, "location is null");
    requireNonNull(storageEndpoint, "storageEndpoint is null");
    requireNonNull(restEndpoint, "restEndpoint is null");
    requireNonNull(appendTimeout, "appendTimeout is null");
    requireNonNull(stateDirectory, "stateDirectory is null");
  }

  /** True when the configuration asks for the BigQuery sink. */
  public static boolean enabled(Config c) {
    return c.optional("bigquery.project").isPresent();
  }

  public static BigQueryConfig from(Config c, Path dataDir) {
    return new BigQueryConfig(
        c.string("bigquery.project").trim(),
        name(c, "bigquery.dataset"),
        name(c, "bigquery.table"),
        c.optional("bigquery.credentials").map(String::trim).map(Path::of),
        c.optional("bigquery.location").map(String::trim),
        c.bool("bigquery.create-table"),
        c.optional("bigquery.storage-endpoint").map(s -> endpoint("bigquery.storage-endpoint", s)),
        c.optional("bigquery.rest-endpoint").map(s -> endpoint("bigquery.rest-endpoint", s)),
        c.duration("bigquery.append-timeout"),
        dataDir.resolve("bigquery"));
  }

  private static String name(Config c, String key) {
    String v = c.string(key).trim();
    if (v.isEmpty()) {
      throw new ConfigException(key + " must not be empty");
    }
    return v;
  }

  private static URI endpoint(String key, String value) {
    String v = value.trim();
    URI uri = URI.create(v.contains("://") ? v : "https://" + v);
    if (uri.getHost() == null) {
      throw new ConfigException(key + ": not a host:port or URL: " + value);
    }
    return uri;
  }

  /** {@code projects/P/datasets/D/tables/T}, the table's name in the Storage Write API. */
  public String tablePath() {
    return "projects/" + project + "/datasets/" + dataset + "/tables/" + table;
  }

  /** A summary without the credentials path. */
  @Override
  public String toString() {
    return "BigQueryConfig{table="
        + project
        + "."
        + dataset
        + "."
        + table
        + ", credentials="
        + (credentials.isPresent() ? "key file" : "application default")
        + storageEndpoint.map(u -> ", storageEndpoint=" + u).orElse("")
        + restEndpoint.map(u -> ", restEndpoint=" + u).orElse("")
        + "}";
  }
}
