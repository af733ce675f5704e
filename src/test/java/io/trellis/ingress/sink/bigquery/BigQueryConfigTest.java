package io.trellis.ingress.sink.bigquery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.ingress.cli.ServiceSettings;
import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.ConfigException;
import io.trellis.ingress.config.Setting;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class BigQueryConfigTest {
  private static final Path DATA = Path.of("/var/lib/trellis");

  @Test
  void isOffUntilAProjectIsSet() {
    assertThat(BigQueryConfig.enabled(ServiceSettings.defaults())).isFalse();
    assertThat(BigQueryConfig.enabled(ServiceSettings.config(Map.of("bigquery.project", "acme"))))
        .isTrue();
  }

  @Test
  void defaults() {
    BigQueryConfig c =
        BigQueryConfig.from(ServiceSettings.config(Map.of("bigquery.project", "acme")), DATA);
    assertThat(c.project()).isEqualTo("acme");
    assertThat(c.dataset()).isEqualTo("trellis");
    assertThat(c.table()).isEqualTo("events");
    assertThat(c.credentials()).isEmpty();
    assertThat(c.location()).isEmpty();
    assertThat(c.createTable()).isTrue();
    assertThat(c.storageEndpoint()).isEmpty();
    assertThat(c.restEndpoint()).isEmpty();
    assertThat(c.appendTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(c.stateDirectory()).isEqualTo(DATA.resolve("bigquery"));
    assertThat(c.tablePath()).isEqualTo("projects/acme/datasets/trellis/tables/events");
  }

  @Test
  void explicitValues() {
    BigQueryConfig c =
        BigQueryConfig.from(
            ServiceSettings.config(
                Map.of(
                    "bigquery.project", "acme",
                    "bigquery.dataset", "marketing",
                    "bigquery.table", "traffic",
                    "bigquery.credentials", "/etc/trellis/bq.json",
                    "bigquery.location", "EU",
                    "bigquery.create-table", "false",
                    "bigquery.storage-endpoint", "http://127.0.0.1:9000",
                    "bigquery.rest-endpoint", "http://127.0.0.1:9050",
                    "bigquery.append-timeout", "5s")),
            DATA);
    assertThat(c.tablePath()).isEqualTo("projects/acme/datasets/marketing/tables/traffic");
    assertThat(c.credentials()).contains(Path.of("/etc/trellis/bq.json"));
    assertThat(c.location()).contains("EU");
    assertThat(c.createTable()).isFalse();
    assertThat(c.storageEndpoint()).contains(URI.create("http://127.0.0.1:9000"));
    assertThat(c.restEndpoint()).contains(URI.create("http://127.0.0.1:9050"));
    assertThat(c.appendTimeout()).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void aBareHostPortEndpointMeansTls() {
    BigQueryConfig c =
        BigQueryConfig.from(
            ServiceSettings.config(
                Map.of(
                    "bigquery.project",
                    "acme",
                    "bigquery.storage-endpoint",
                    "bigquerystorage.googleapis.com:443")),
            DATA);
    assertThat(c.storageEndpoint().map(URI::getScheme)).isEqualTo(Optional.of("https"));
  }

  @Test
  void theIssuesEnvironmentVariablesAndASecretKeyFile() {
    Map<String, Setting> byKey = new java.util.HashMap<>();
    ServiceSettings.all().forEach(s -> byKey.put(s.key(), s));
    assertThat(byKey.get("bigquery.project").env()).isEqualTo("TRELLIS_BIGQUERY_PROJECT");
    assertThat(byKey.get("bigquery.dataset").env()).isEqualTo("TRELLIS_BIGQUERY_DATASET");
    assertThat(byKey.get("bigquery.table").env()).isEqualTo("TRELLIS_BIGQUERY_TABLE");
    assertThat(byKey.get("bigquery.credentials").env()).isEqualTo("TRELLIS_BIGQUERY_CREDENTIALS");
    assertThat(byKey.get("bigquery.credentials").secret()).isTrue();

    Config config =
        ServiceSettings.config(
            Map.of("bigquery.project", "acme", "bigquery.credentials", "/secret/bq.json"));
    assertThat(config.toString()).doesNotContain("/secret/bq.json");
    assertThat(BigQueryConfig.from(config, DATA).toString())
        .contains("acme.trellis.events")
        .doesNotContain("/secret/bq.json");
  }

  @Test
  void anEmptyDatasetIsRefused() {
    assertThatThrownBy(
            () ->
                BigQueryConfig.from(
                    ServiceSettings.config(
                        Map.of("bigquery.project", "acme", "bigquery.dataset", " ")),
                    DATA))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("bigquery.dataset");
  }
}
