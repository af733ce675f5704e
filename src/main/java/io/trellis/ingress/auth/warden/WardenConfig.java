package io.trellis.ingress.auth.warden;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.ConfigException;
import io.trellis.ingress.config.Durations;
import io.trellis.ingress.config.Setting;
import io.trellis.ingress.config.SettingType;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;

/**
 * How the ingress talks to Warden and how long it trusts Warden's verdicts.
 *
 * @param url Warden's base URL; the verify call is {@code GET {url}/v1/api-keys/verify}
 * @param timeout the longest one verify call may take before Warden counts as unavailable
 * @param validTtl how long a valid verdict is used without asking Warden again
 * @param invalidTtl how long an invalid (unknown, revoked, wrong scope) verdict is used
 * @param staleLimit how long past {@code validTtl} a valid verdict is still used while Warden is
 *     unavailable
 * @param retryInterval after a failed call, how long Warden is left alone (stale verdicts are
 *     served and unknown keys get 503 at once); also the Retry-After of those 503s
 * @param cacheMaxKeys the most verdicts kept
 */
public record WardenConfig(
    URI url,
    Duration timeout,
    Duration validTtl,
    Duration invalidTtl,
    Duration staleLimit,
    Duration retryInterval,
    int cacheMaxKeys) {

  public static final List<Setting> SETTINGS =
      List.of(
          Setting.of(
                  "auth.warden.url",
                  SettingType.STRING,
                  "",
                  "Warden's base URL (auth.mode=warden), e.g. http://warden:8080.")
              .withAlias("TRELLIS_WARDEN_URL"),
          Setting.of(
              "auth.warden.timeout",
              SettingType.DURATION,
              "2s",
              "Longest a key verification call to Warden may take; a slower answer fails that"
                  + " key only (3 different keys in a row: Warden counts as unavailable)."),
          Setting.of(
              "auth.warden.cache-valid-ttl",
              SettingType.DURATION,
              "5m",
              "How long a valid key is trusted without asking Warden again (re-verified in the"
                  + " background after 80% of it)."),
          Setting.of(
              "auth.warden.cache-invalid-ttl",
              SettingType.DURATION,
              "30s",
              "How long an unknown, revoked or wrong-scope key is refused without asking Warden."),
          Setting.of(
              "auth.warden.stale-limit",
              SettingType.DURATION,
              "1h",
              "While Warden is unavailable, how long past its TTL a valid key keeps working."),
          Setting.of(
              "auth.warden.retry-interval",
              SettingType.DURATION,
              "5s",
              "After Warden failed (for every key, or for one key), how long before asking it"
                  + " again about them; the Retry-After of the 503s meanwhile."),
          Setting.of(
              "auth.warden.cache-max-keys",
              SettingType.INT,
              "100000",
              "Most key verdicts cached (by SHA-256 of the key, never the key)."));

  public WardenConfig {
    requireNonNull(url, "url is null");
    requireNonNull(timeout, "timeout is null");
    requireNonNull(validTtl, "validTtl is null");
    requireNonNull(invalidTtl, "invalidTtl is null");
    requireNonNull(staleLimit, "staleLimit is null");
    requireNonNull(retryInterval, "retryInterval is null");
  }

  public static WardenConfig from(Config c) {
    String raw = c.string("auth.warden.url").trim();
    if (raw.isEmpty()) {
      throw new ConfigException(
          "auth.warden.url: required when auth.mode is warden (env TRELLIS_AUTH_WARDEN_URL or TRELLIS_WARDEN_URL)");
    }
    URI url;
    try {
      url = new URI(raw.endsWith("/") ? raw.substring(0, raw.length() - 1) : raw);
    } catch (URISyntaxException e) {
      throw new ConfigException("auth.warden.url: not a URL: " + e.getReason());
    }
    if (!"http".equals(url.getScheme()) && !"https".equals(url.getScheme())
        || url.getHost() == null) {
      throw new ConfigException("auth.warden.url: expected an http:// or https:// URL");
    }
    if (url.getRawUserInfo() != null) {
      throw new ConfigException("auth.warden.url: must not carry credentials");
    }
    WardenConfig w =
        new WardenConfig(
            url,
            c.duration("auth.warden.timeout"),
            c.duration("auth.warden.cache-valid-ttl"),
            c.duration("auth.warden.cache-invalid-ttl"),
            c.duration("auth.warden.stale-limit"),
            c.duration("auth.warden.retry-interval"),
            c.integer("auth.warden.cache-max-keys"));
    positive("auth.warden.timeout", w.timeout());
    positive("auth.warden.cache-valid-ttl", w.validTtl());
    positive("auth.warden.retry-interval", w.retryInterval());
    if (w.cacheMaxKeys() < 1) {
      throw new ConfigException("auth.warden.cache-max-keys: must be at least 1");
    }
    return w;
  }

  private static void positive(String key, Duration d) {
    if (d.isZero() || d.isNegative()) {
      throw new ConfigException(key + ": must be more than 0, got " + Durations.format(d));
    }
  }

  /** The verify endpoint. */
  URI verifyUri() {
    return URI.create(url + "/v1/api-keys/verify");
  }
}
