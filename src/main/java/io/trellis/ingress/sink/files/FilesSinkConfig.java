package io.trellis.ingress.sink.files;

import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.Setting;
import io.trellis.ingress.config.SettingType;
import java.nio.file.Path;
import java.util.List;

/** The embedded default sink: NDJSON files under {@code DATA_DIR/events/}. */
public record FilesSinkConfig(boolean enabled, Path directory, long maxFileBytes, boolean fsync) {
  public static final List<Setting> SETTINGS =
      List.of(
          Setting.of(
              "files.enabled",
              SettingType.BOOLEAN,
              "true",
              "Write every event as NDJSON under DATA_DIR/events/org=ORG/date=YYYY-MM-DD/."),
          Setting.of(
              "files.max-file-size",
              SettingType.SIZE,
              "128MiB",
              "Size at which an NDJSON file is closed and a new one started."),
          Setting.of(
              "files.fsync",
              SettingType.BOOLEAN,
              "true",
              "Force each written batch to disk before the spool forgets it."));

  public static FilesSinkConfig from(Config c, Path dataDir) {
    return new FilesSinkConfig(
        c.bool("files.enabled"),
        dataDir.resolve("events"),
        c.size("files.max-file-size"),
        c.bool("files.fsync"));
  }
}
