package io.trellis.ingress.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.config.ConfigLoader;
import io.trellis.ingress.config.Setting;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigCommandTest {

  @Test
  void readmeSettingsTableIsExactlyTheGeneratedOne() throws Exception {
    String readme = Files.readString(Path.of("README.md"));
    int start = readme.indexOf("<!-- settings:begin");
    int end = readme.indexOf("<!-- settings:end -->");
    assertThat(start).as("README settings markers").isPositive();
    String table = readme.substring(readme.indexOf('\n', start) + 1, end);

    assertThat(table)
        .as("README settings table; regenerate with ./trellis-ingress config --reference")
        .isEqualTo(ConfigCommand.referenceTable());
    for (Setting s : ServiceSettings.all()) {
      assertThat(table).contains("`" + s.key() + "`").contains("`" + s.env() + "`");
    }
  }

  @Test
  void effectiveConfigurationMasksSecrets() {
    Setting password =
        Setting.secret("db.password", io.trellis.ingress.config.SettingType.STRING, "", "x");
    var config =
        ConfigLoader.load(
            java.util.List.of(password), null, Map.of("TRELLIS_DB_PASSWORD", "hunter2"), Map.of());
    assertThat(config.masked()).containsEntry("db.password", "****");
    for (Setting s : ServiceSettings.all()) {
      if (s.secret()) {
        var c =
            ConfigLoader.load(
                ServiceSettings.all(), null, Map.of(s.env(), "s3cr3t-value"), Map.of());
        assertThat(c.masked().get(s.key())).isEqualTo("****");
      }
    }
  }

  @Test
  void configCommandPrintsEffectiveValuesWithSourcesAndMasksSecrets() {
    java.io.PrintStream old = System.out;
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
    int code;
    try {
      code =
          Main.run(
              "config",
              "--set",
              "clickhouse.password=hunter2-secret",
              "--set",
              "bigquery.credentials=/etc/keys/sa.json",
              "--set",
              "limits.body-max=2MiB");
    } finally {
      System.setOut(old);
    }
    String text = out.toString(java.nio.charset.StandardCharsets.UTF_8);
    assertThat(code).isZero();
    assertThat(text)
        .doesNotContain("hunter2-secret")
        .doesNotContain("/etc/keys/sa.json")
        .containsPattern("clickhouse\\.password +=  ?\\*\\*\\*\\* +\\(flag\\)")
        .containsPattern("limits\\.body-max +=  ?2MiB +\\(flag\\)")
        .containsPattern("port +=  ?8080 +\\(default\\)");
  }
}
