package io.trellis.ingress.auth;

import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.ConfigException;
import io.trellis.ingress.config.Setting;
import io.trellis.ingress.config.SettingType;
import java.util.List;

/** How API keys are resolved to organizations. */
public record AuthConfig(String mode, boolean createDemoKey) {
  public static final List<Setting> SETTINGS =
      List.of(
          Setting.of(
              "auth.mode",
              SettingType.STRING,
              "local",
              "Where API keys are verified: local (the key store under data-dir) or warden."),
          Setting.of(
              "auth.demo-key",
              SettingType.BOOLEAN,
              "true",
              "In local mode, create and print a key for organization 'demo' when the key store is"
                  + " empty."));

  public static AuthConfig from(Config c) {
    String mode = c.string("auth.mode").trim();
    if (!mode.equals("local") && !mode.equals("warden")) {
      throw new ConfigException("auth.mode: expected local or warden, got '" + mode + "'");
    }
    return new AuthConfig(mode, c.bool("auth.demo-key"));
  }
}
