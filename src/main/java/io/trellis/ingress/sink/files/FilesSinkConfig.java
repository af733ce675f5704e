package io.trellis.ingress.sink.files;

import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.ConfigException;
import io.trellis.ingress.config.Setting;
import io.trellis.ingress.config.SettingType;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** The embedded default sink: NDJSON files under {@code DATA_DIR/events/}. */
public record FilesSinkConfig(
    boolean enabled,
    Path directory,
    long maxFileBytes,
    boolean fsync,
    Duration fsyncInterval,
    long fsyncMaxEvents,
    boolean directIo) {
  static final Duration DEFAULT_FSYNC_INTERVAL = Duration.ofSeconds(1);
  static final long DEFAULT_FSYNC_MAX_EVENTS = 100_000;

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
              "Force the written files to disk before the spool forgets their events; false: the"
                  + " spool forgets them once written (a power loss can lose the last seconds)."),
          Setting.of(
              "files.fsync-interval",
              SettingType.DURATION,
              "1s",
              "Longest time written lines wait for their fsync (one fsync per file for all lines"
                  + " written meanwhile); the spool keeps their events until then."),
          Setting.of(
              "files.fsync-max-events",
              SettingType.INT,
              "100000",
              "Written lines after which the files are forced to disk without waiting for"
                  + " files.fsync-interval."),
          Setting.of(
              "files.direct-io",
              SettingType.BOOLEAN,
              "true",
              "Write the files' whole blocks with direct I/O, past the page cache (the service"
                  + " never reads them back), and only each append's last partial block through"
                  + " it; false, or a file system without direct I/O: everything through the page"
                  + " cache."));

  /** A configuration with the default fsync interval and event count. */
  public FilesSinkConfig(boolean enabled, Path directory, long maxFileBytes, boolean fsync) {
    this(enabled, directory, maxFileBytes, fsync, DEFAULT_FSYNC_INTERVAL, DEFAULT_FSYNC_MAX_EVENTS);
  }

  /** A configuration that writes with direct I/O where the file system allows it. */
  public FilesSinkConfig(
      boolean enabled,
      Path directory,
      long maxFileBytes,
      boolean fsync,
      Duration fsyncInterval,
      long fsyncMaxEvents) {
    this(enabled, directory, maxFileBytes, fsync, fsyncInterval, fsyncMaxEvents, true);
  }

  public FilesSinkConfig {
    if (fsyncInterval.isNegative()) {
      throw new ConfigException("files.fsync-interval must not be negative");
    }
    if (fsyncMaxEvents < 1) {
      throw new ConfigException("files.fsync-max-events must be at least 1");
    }
  }

  public static FilesSinkConfig from(Config c, Path dataDir) {
    return new FilesSinkConfig(
        c.bool("files.enabled"),
        dataDir.resolve("events"),
        c.size("files.max-file-size"),
        c.bool("files.fsync"),
        c.duration("files.fsync-interval"),
        c.integer("files.fsync-max-events"),
        c.bool("files.direct-io"));
  }
}
