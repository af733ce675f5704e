package io.trellis.ingress.http;

import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.ConfigException;
import io.trellis.ingress.config.Setting;
import io.trellis.ingress.config.SettingType;
import java.util.List;

/** The public capture port and its request limits. */
public record HttpConfig(
    String host,
    int port,
    int eventLoops,
    long bodyMaxBytes,
    long batchBodyMaxBytes,
    int batchItemsMax,
    int maxHeaderBytes,
    int maxUrlBytes,
    int streamsPerConnection) {

  public static final List<Setting> SETTINGS =
      List.of(
          Setting.of("host", SettingType.STRING, "127.0.0.1", "Address the capture port binds to."),
          Setting.of("port", SettingType.INT, "8080", "Capture port (0 picks a free port)."),
          Setting.of(
              "http.event-loops",
              SettingType.INT,
              "0",
              "Event-loop threads serving HTTP; 0 means one per CPU core."),
          Setting.of(
              "limits.body-max",
              SettingType.SIZE,
              "1MiB",
              "Largest body accepted on /events, /track and /pixel (413 above)."),
          Setting.of(
              "limits.batch-body-max",
              SettingType.SIZE,
              "20MiB",
              "Largest body accepted on /batch (413 above)."),
          Setting.of(
              "limits.batch-items-max",
              SettingType.INT,
              "10000",
              "Most events accepted in one /batch request (413 above)."),
          Setting.of(
              "limits.header-max",
              SettingType.SIZE,
              "64KiB",
              "Largest total size of request headers (431 above)."),
          Setting.of(
              "limits.url-max",
              SettingType.SIZE,
              "16KiB",
              "Longest request line, URL included (414 above)."),
          Setting.of(
              "limits.streams-per-connection",
              SettingType.INT,
              "100",
              "Most requests open at once on one HTTP/2 connection (its"
                  + " SETTINGS_MAX_CONCURRENT_STREAMS); a stream past it is reset with"
                  + " REFUSED_STREAM, which clients retry."));

  public static HttpConfig from(Config c) {
    int loops = c.integer("http.event-loops");
    if (loops < 0) {
      throw new ConfigException("http.event-loops: must be 0 or more, got " + loops);
    }
    int streams = c.integer("limits.streams-per-connection");
    if (streams < 1) {
      throw new ConfigException("limits.streams-per-connection: must be 1 or more, got " + streams);
    }
    return new HttpConfig(
        c.string("host"),
        c.integer("port"),
        loops == 0 ? Runtime.getRuntime().availableProcessors() : loops,
        c.size("limits.body-max"),
        c.size("limits.batch-body-max"),
        c.integer("limits.batch-items-max"),
        (int) Math.min(Integer.MAX_VALUE, c.size("limits.header-max")),
        (int) Math.min(Integer.MAX_VALUE, c.size("limits.url-max")),
        streams);
  }
}
