package io.trellis.ingress.live;

import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.ConfigException;
import io.trellis.ingress.config.Setting;
import io.trellis.ingress.config.SettingType;
import java.time.Duration;
import java.util.List;

/** The live event view on the admin port. */
public record LiveConfig(
    boolean enabled,
    int maxViewers,
    long viewerBufferBytes,
    Duration stalledViewerTimeout,
    List<String> allowedHosts) {

  public static final List<Setting> SETTINGS =
      List.of(
          Setting.of(
              "live.enabled",
              SettingType.BOOLEAN,
              "true",
              "Serve the live event view (/live and its stream /live/events) on the admin port."),
          Setting.of(
              "live.max-viewers",
              SettingType.INT,
              "5",
              "Most live viewers (pages and tail commands) at once; one more is answered 503."),
          Setting.of(
              "live.viewer-buffer",
              SettingType.SIZE,
              "1MiB",
              "Events held for one live viewer whose connection is behind; beyond it the viewer's"
                  + " events are dropped and counted, and the viewer is told how many."),
          Setting.of(
              "live.stalled-viewer-timeout",
              SettingType.DURATION,
              "60s",
              "A live viewer whose connection takes nothing for this long is disconnected."),
          Setting.of(
              "live.allowed-hosts",
              SettingType.LIST,
              "",
              "Host names the live view answers to besides IP addresses, localhost and"
                  + " admin.host (a guard against DNS rebinding)."));

  public LiveConfig {
    allowedHosts = List.copyOf(allowedHosts);
  }

  public static LiveConfig from(Config c) {
    int max = c.integer("live.max-viewers");
    if (max < 1) {
      throw new ConfigException("live.max-viewers: must be at least 1, got " + max);
    }
    long buffer = c.size("live.viewer-buffer");
    if (buffer < 64 * 1024) {
      throw new ConfigException("live.viewer-buffer: must be at least 64KiB");
    }
    Duration stalled = c.duration("live.stalled-viewer-timeout");
    if (stalled.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new ConfigException("live.stalled-viewer-timeout: must be at least 1s");
    }
    return new LiveConfig(
        c.bool("live.enabled"), max, buffer, stalled, c.list("live.allowed-hosts"));
  }
}
