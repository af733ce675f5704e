package io.trellis.ingress.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.ingress.cli.ServiceSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  @TempDir Path dir;

  @Test
  void defaultsApplyWhenNothingIsGiven() {
    Config c = ServiceSettings.defaults();

    assertThat(c.string("host")).isEqualTo("127.0.0.1");
    assertThat(c.integer("port")).isEqualTo(8080);
    assertThat(c.string("data-dir")).isEqualTo("./data");
    assertThat(c.size("limits.body-max")).isEqualTo(1 << 20);
    assertThat(c.size("limits.batch-body-max")).isEqualTo(20 << 20);
    assertThat(c.integer("limits.batch-items-max")).isEqualTo(10_000);
    assertThat(c.source("port")).isEqualTo(Config.Source.DEFAULT);
  }

  @Test
  void fileIsOverriddenByEnvironmentWhichIsOverriddenByFlags() throws Exception {
    Path file = dir.resolve("c.yaml");
    Files.writeString(
        file, "port: 9000\nhost: 0.0.0.0\nlimits:\n  body_max: 2MiB\n  batch-items-max: 7\n");

    Config c =
        ConfigLoader.load(
            ServiceSettings.all(),
            file,
            Map.of("TRELLIS_PORT", "9100", "TRELLIS_LIMITS_BATCH_ITEMS_MAX", "8"),
            Map.of("port", "9200"));

    assertThat(c.integer("port")).isEqualTo(9200);
    assertThat(c.source("port")).isEqualTo(Config.Source.FLAG);
    assertThat(c.integer("limits.batch-items-max")).isEqualTo(8);
    assertThat(c.source("limits.batch-items-max")).isEqualTo(Config.Source.ENV);
    assertThat(c.size("limits.body-max")).isEqualTo(2 << 20);
    assertThat(c.string("host")).isEqualTo("0.0.0.0");
    assertThat(c.source("host")).isEqualTo(Config.Source.FILE);
  }

  @Test
  void everySettingHasItsEnvironmentVariable() {
    for (Setting s : ServiceSettings.all()) {
      assertThat(s.env()).startsWith("TRELLIS_").matches("[A-Z0-9_]+");
    }
    Config c =
        ConfigLoader.load(
            ServiceSettings.all(),
            null,
            Map.of("TRELLIS_DATA_DIR", "/srv/x", "TRELLIS_PORT", "1"),
            Map.of());
    assertThat(c.string("data-dir")).isEqualTo("/srv/x");
    assertThat(c.integer("port")).isEqualTo(1);
  }

  @Test
  void unknownFileKeyFailsNamingTheKey() throws Exception {
    Path file = dir.resolve("c.yaml");
    Files.writeString(file, "limits:\n  body-maxx: 1MiB\n");

    assertThatThrownBy(() -> ConfigLoader.load(ServiceSettings.all(), file, Map.of(), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("unknown key 'limits.body-maxx'");
  }

  @Test
  void unknownFlagKeyFails() {
    assertThatThrownBy(() -> ServiceSettings.config(Map.of("nope", "1")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("unknown key 'nope'");
  }

  @Test
  void badValuesFailNamingKeySourceAndProblem() {
    assertThatThrownBy(
            () ->
                ConfigLoader.load(
                    ServiceSettings.all(), null, Map.of("TRELLIS_PORT", "eighty"), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("port (TRELLIS_PORT)");
    assertThatThrownBy(() -> ServiceSettings.config(Map.of("limits.body-max", "lots")))
        .hasMessageContaining("limits.body-max")
        .hasMessageContaining("expected a size");
    assertThatThrownBy(() -> ServiceSettings.config(Map.of("spool.batch-max-age", "soon")))
        .hasMessageContaining("expected a duration");
    assertThatThrownBy(() -> ServiceSettings.config(Map.of("files.enabled", "maybe")))
        .hasMessageContaining("expected true or false");
  }

  @Test
  void sizesAndDurationsParseOperatorUnits() {
    assertThat(Sizes.parse("512")).isEqualTo(512);
    assertThat(Sizes.parse("64KiB")).isEqualTo(65536);
    assertThat(Sizes.parse("1 MB")).isEqualTo(1 << 20);
    assertThat(Sizes.parse("2g")).isEqualTo(2L << 30);
    assertThat(Sizes.format(20L << 20)).isEqualTo("20 MiB");
    assertThat(Sizes.format(41_368_797_197L)).isEqualTo("38.5 GiB");
    assertThat(Sizes.format(24)).isEqualTo("24 B");
    assertThat(Durations.parse("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(Durations.parse("5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(Durations.parse("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(Durations.format(Duration.ofSeconds(30))).isEqualTo("30s");
  }

  @Test
  void maskedViewHidesSecretValues() {
    Setting secret = Setting.secret("x.password", SettingType.STRING, "", "a password");
    Config c =
        ConfigLoader.load(
            java.util.List.of(secret), null, Map.of("TRELLIS_X_PASSWORD", "hunter2"), Map.of());
    assertThat(c.string("x.password")).isEqualTo("hunter2");
    assertThat(c.toString()).doesNotContain("hunter2");
  }
}
