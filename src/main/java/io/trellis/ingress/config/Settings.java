package io.trellis.ingress.config;

import io.trellis.ingress.auth.AuthConfig;
import io.trellis.ingress.auth.warden.WardenConfig;
import io.trellis.ingress.capture.CaptureConfig;
import io.trellis.ingress.http.CapacityConfig;
import io.trellis.ingress.http.ClientConfig;
import io.trellis.ingress.http.HttpConfig;
import io.trellis.ingress.limits.RateLimitConfig;
import io.trellis.ingress.ops.OpsConfig;
import io.trellis.ingress.sink.bigquery.BigQueryConfig;
import io.trellis.ingress.sink.clickhouse.ClickHouseConfig;
import io.trellis.ingress.sink.files.FilesSinkConfig;
import io.trellis.ingress.spool.SpoolConfig;
import java.util.ArrayList;
import java.util.List;

/** The registry of every setting, in the order the README and the {@code config} command show. */
public final class Settings {
  public static final String DATA_DIR = "data-dir";

  static final List<Setting> CORE =
      List.of(
          Setting.of(
              DATA_DIR,
              SettingType.STRING,
              "./data",
              "Directory for the key store, the spool and the files sink."));

  private static final List<Setting> ALL = build();

  private Settings() {}

  public static List<Setting> all() {
    return ALL;
  }

  private static List<Setting> build() {
    List<Setting> all = new ArrayList<>(CORE);
    all.addAll(HttpConfig.SETTINGS);
    all.addAll(ClientConfig.SETTINGS);
    all.addAll(CapacityConfig.SETTINGS);
    all.addAll(CaptureConfig.SETTINGS);
    all.addAll(AuthConfig.SETTINGS);
    all.addAll(WardenConfig.SETTINGS);
    all.addAll(RateLimitConfig.SETTINGS);
    all.addAll(SpoolConfig.SETTINGS);
    all.addAll(FilesSinkConfig.SETTINGS);
    all.addAll(ClickHouseConfig.SETTINGS);
    all.addAll(BigQueryConfig.SETTINGS);
    all.addAll(OpsConfig.SETTINGS);
    return List.copyOf(all);
  }
}
