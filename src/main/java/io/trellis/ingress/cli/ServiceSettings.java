package io.trellis.ingress.cli;

import io.trellis.ingress.auth.AuthConfig;
import io.trellis.ingress.auth.warden.WardenConfig;
import io.trellis.ingress.capture.CaptureConfig;
import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.ConfigLoader;
import io.trellis.ingress.config.Setting;
import io.trellis.ingress.config.SettingType;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The registry of every setting, in the order the README and the {@code config} command show. Each
 * package declares its own settings ({@code *Config.SETTINGS}); they are put together here, at the
 * composition root, so that {@code config} depends on no package above it.
 */
public final class ServiceSettings {
  public static final String DATA_DIR = "data-dir";

  static final List<Setting> CORE =
      List.of(
          Setting.of(
              DATA_DIR,
              SettingType.STRING,
              "./data",
              "Directory for the key store, the spool and the files sink."));

  private static final List<Setting> ALL = build();

  private ServiceSettings() {}

  public static List<Setting> all() {
    return ALL;
  }

  /** Every setting at its default plus the given overrides, for tests and tools. */
  public static Config config(Map<String, String> overrides) {
    return ConfigLoader.load(ALL, null, Map.of(), overrides);
  }

  /** Every setting at its default. */
  public static Config defaults() {
    return config(Map.of());
  }

  private static List<Setting> build() {
    List<Setting> all = new ArrayList<>(CORE);
    all.addAll(HttpConfig.SETTINGS);
    all.addAll(ClientConfig.SETTINGS);
    all.addAll(CapacityConfig.SETTINGS);
    all.addAll(CaptureConfig.SETTINGS);
    all.addAll(EnrichConfig.SETTINGS);
    all.addAll(AuthConfig.SETTINGS);
    all.addAll(WardenConfig.SETTINGS);
    all.addAll(RateLimitConfig.SETTINGS);
    all.addAll(SpoolConfig.SETTINGS);
    all.addAll(FilesSinkConfig.SETTINGS);
    all.addAll(ClickHouseConfig.SETTINGS);
    all.addAll(BigQueryConfig.SETTINGS);
    all.addAll(OpsConfig.SETTINGS);
    all.addAll(LiveConfig.SETTINGS);
    return List.copyOf(all);
  }
}
