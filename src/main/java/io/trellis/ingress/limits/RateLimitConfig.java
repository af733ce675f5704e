package io.trellis.ingress.limits;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.auth.LocalKeyStore;
import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.ConfigException;
import io.trellis.ingress.config.Setting;
import io.trellis.ingress.config.SettingType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-organization event rates and the per-client-address limit on failed authentications.
 *
 * @param organizationDefault the rate of every organization without an override
 * @param organizationOverrides rates of named organizations
 * @param authFailuresPerMinute failed authentications a client address may make per minute once its
 *     burst is spent; 0 turns the limit off
 * @param authFailuresBurst failed authentications a client address may make in a row
 */
public record RateLimitConfig(
    Rate organizationDefault,
    Map<String, Rate> organizationOverrides,
    int authFailuresPerMinute,
    int authFailuresBurst) {

  public static final List<Setting> SETTINGS =
      List.of(
          Setting.of(
              "limits.org.rate",
              SettingType.INT,
              "0",
              "Events per second one organization may send on average (429 above); 0 is"
                  + " unlimited."),
          Setting.of(
              "limits.org.burst",
              SettingType.INT,
              "0",
              "Events one organization may send at once above its rate; 0 means one second's"
                  + " worth."),
          Setting.of(
              "limits.org.overrides",
              SettingType.LIST,
              "",
              "Per-organization rates overriding the above: ORG=RATE or ORG=RATE:BURST, comma"
                  + " separated; RATE 0 or off is unlimited. E.g. acme=500:2000,tiny=5."),
          Setting.of(
              "limits.auth-failures.per-minute",
              SettingType.INT,
              "30",
              "Failed authentications a client address may make per minute once its burst is"
                  + " spent; then it gets 429. 0 turns this off."),
          Setting.of(
              "limits.auth-failures.burst",
              SettingType.INT,
              "10",
              "Failed authentications a client address may make in a row before being slowed."));

  public RateLimitConfig {
    requireNonNull(organizationDefault, "organizationDefault is null");
    organizationOverrides = Map.copyOf(organizationOverrides);
  }

  public static RateLimitConfig from(Config c) {
    Rate def;
    try {
      def = new Rate(c.integer("limits.org.rate"), c.integer("limits.org.burst"));
    } catch (IllegalArgumentException e) {
      throw new ConfigException("limits.org.rate, limits.org.burst: " + e.getMessage());
    }
    Map<String, Rate> overrides = new LinkedHashMap<>();
    for (String entry : c.list("limits.org.overrides")) {
      int eq = entry.indexOf('=');
      String org = eq < 0 ? "" : entry.substring(0, eq).trim();
      if (!LocalKeyStore.isValidOrganizationId(org)) {
        throw new ConfigException(
            "limits.org.overrides: expected ORG=RATE or ORG=RATE:BURST, got '" + entry + "'");
      }
      try {
        overrides.put(org, Rate.parse(entry.substring(eq + 1)));
      } catch (IllegalArgumentException e) {
        throw new ConfigException("limits.org.overrides: " + org + ": " + e.getMessage());
      }
    }
    int perMinute = c.integer("limits.auth-failures.per-minute");
    int burst = c.integer("limits.auth-failures.burst");
    if (perMinute < 0 || burst < 0 || perMinute > 0 && burst < 1) {
      throw new ConfigException(
          "limits.auth-failures.per-minute must be 0 or more and limits.auth-failures.burst at"
              + " least 1");
    }
    return new RateLimitConfig(def, overrides, perMinute, burst);
  }

  /** The rate that applies to an organization. */
  public Rate rateOf(String organizationId) {
    return organizationOverrides.getOrDefault(organizationId, organizationDefault);
  }
}
