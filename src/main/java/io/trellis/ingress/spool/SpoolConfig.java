package io.trellis.ingress.spool;

import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.Setting;
import io.trellis.ingress.config.SettingType;
import java.time.Duration;
import java.util.List;

/** The hand-off between HTTP and the sinks, and how sinks are fed from it. */
public record SpoolConfig(
    int memoryCapacity, int batchMaxRows, Duration batchMaxAge, Duration drainTimeout) {
  public static final List<Setting> SETTINGS =
      List.of(
          Setting.of(
              "spool.memory-capacity",
              SettingType.INT,
              "100000",
              "Events held in memory between HTTP and the sinks before answering 503."),
          Setting.of(
              "spool.batch-max-rows", SettingType.INT, "10000", "Most events in one sink batch."),
          Setting.of(
              "spool.batch-max-age",
              SettingType.DURATION,
              "200ms",
              "Longest an event waits for its batch to fill before the batch is written."),
          Setting.of(
              "spool.drain-timeout",
              SettingType.DURATION,
              "10s",
              "On shutdown, how long sinks may drain before the process exits."));

  public static SpoolConfig from(Config c) {
    return new SpoolConfig(
        c.integer("spool.memory-capacity"),
        c.integer("spool.batch-max-rows"),
        c.duration("spool.batch-max-age"),
        c.duration("spool.drain-timeout"));
  }
}
