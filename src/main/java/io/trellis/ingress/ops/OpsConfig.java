package io.trellis.ingress.ops;

import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.ConfigException;
import io.trellis.ingress.config.Setting;
import io.trellis.ingress.config.SettingType;
import java.util.List;

/** The admin port and logging. */
public record OpsConfig(
    boolean adminEnabled,
    String adminHost,
    int adminPort,
    String logFormat,
    String logLevel,
    boolean accessLog,
    int logErrorsPerSecond) {

  public static final List<Setting> SETTINGS =
      List.of(
          Setting.of(
              "admin.enabled",
              SettingType.BOOLEAN,
              "true",
              "Serve /metrics, /healthz and /readyz on the admin port."),
          Setting.of(
              "admin.host",
              SettingType.STRING,
              "127.0.0.1",
              "Address the admin port binds to (keep it private)."),
          Setting.of("admin.port", SettingType.INT, "9090", "Admin port (0 picks a free port)."),
          Setting.of("log.format", SettingType.STRING, "text", "Log format: text or json."),
          Setting.of(
              "log.level",
              SettingType.STRING,
              "info",
              "Log level of the service's own loggers: error, warn, info, debug."),
          Setting.of(
              "log.access",
              SettingType.BOOLEAN,
              "false",
              "Log one line per capture request (method, path, status, bytes, latency, peer"
                  + " address, anonymized when any capture.ip-anonymize setting is on; no query,"
                  + " no credentials)."),
          Setting.of(
              "log.max-errors-per-second",
              SettingType.INT,
              "20",
              "Most WARN and ERROR lines per second and logger; the excess is counted, not"
                  + " written."));

  public static OpsConfig from(Config c) {
    String format = c.string("log.format").trim();
    if (!format.equals("text") && !format.equals("json")) {
      throw new ConfigException("log.format: expected text or json, got '" + format + "'");
    }
    String level = c.string("log.level").trim().toLowerCase(java.util.Locale.ROOT);
    if (!List.of("error", "warn", "info", "debug", "trace").contains(level)) {
      throw new ConfigException(
          "log.level: expected error, warn, info, debug or trace, got '" + level + "'");
    }
    int rate = c.integer("log.max-errors-per-second");
    if (rate < 1) {
      throw new ConfigException("log.max-errors-per-second: must be at least 1, got " + rate);
    }
    return new OpsConfig(
        c.bool("admin.enabled"),
        c.string("admin.host"),
        c.integer("admin.port"),
        format,
        level,
        c.bool("log.access"),
        rate);
  }
}
