package io.trellis.ingress.enrich;

import io.trellis.ingress.config.Config;
import io.trellis.ingress.config.ConfigException;
import io.trellis.ingress.config.Setting;
import io.trellis.ingress.config.SettingType;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Which enrichments run and what they read. Every enrichment that needs no file of the operator is
 * on by default; geo needs a database and is off until one is named. With {@code enabled} false
 * nothing is derived at all (see {@link io.trellis.ingress.event.Enrichment#none}) and no file is
 * read.
 */
public record EnrichConfig(
    boolean enabled,
    boolean userAgent,
    int userAgentCacheSize,
    boolean referrer,
    Optional<String> referrerFile,
    List<String> geoipDatabases,
    int geoipCacheSize,
    boolean privacySignal,
    Duration maxFuture,
    Duration maxPast) {

  public static final List<Setting> SETTINGS =
      List.of(
          Setting.of(
              "enrich.enabled",
              SettingType.BOOLEAN,
              "true",
              "Derive the enrichment columns; false leaves every one of them empty (event_time is"
                  + " the receipt time, event_time_source received) whatever the other enrich.*"
                  + " settings say, and reads no enrichment file."),
          Setting.of(
              "enrich.user-agent",
              SettingType.BOOLEAN,
              "true",
              "Derive browser, browser_version, os, device_class and is_bot from the user agent."),
          Setting.of(
              "enrich.user-agent.cache-size",
              SettingType.INT,
              "10000",
              "Most distinct user agents whose parse is remembered, those seen most often (a new"
                  + " one costs 25 to 50 microseconds)."),
          Setting.of(
              "enrich.referrer",
              SettingType.BOOLEAN,
              "true",
              "Classify each event's referrer_class (paid, email, social, search, internal,"
                  + " direct, other)."),
          Setting.of(
              "enrich.referrer.file",
              SettingType.STRING,
              "",
              "Host and medium lists for referrer_class, in the format of the built-in"
                  + " referrers.txt; empty uses the built-in lists."),
          Setting.of(
              "enrich.geoip.database",
              SettingType.LIST,
              "",
              "MaxMind-format .mmdb files (GeoLite2/GeoIP2 City, Country or ASN, or"
                  + " ip-location-db builds) for geo_country, geo_region, geo_city and geo_asn; with"
                  + " several (a City and an ASN file, or IPv4 and IPv6 files), each fills what the"
                  + " earlier ones left empty. Empty switches geo off."),
          Setting.of(
              "enrich.geoip.cache-size",
              SettingType.INT,
              "10000",
              "Most distinct client addresses whose place is remembered (a lookup in the"
                  + " databases costs about a microsecond)."),
          Setting.of(
              "enrich.privacy-signal",
              SettingType.BOOLEAN,
              "true",
              "Store the browser's Sec-GPC and DNT headers as privacy_signal (gpc, dnt)."),
          Setting.of(
              "enrich.time.max-future",
              SettingType.DURATION,
              "10m",
              "Latest event_time accepted after the receipt time; a later client time is kept in"
                  + " client_timestamp and event_time falls back to the receipt time."),
          Setting.of(
              "enrich.time.max-past",
              SettingType.DURATION,
              "30d",
              "Earliest event_time accepted before the receipt time; an older client time is kept"
                  + " in client_timestamp and event_time falls back to the receipt time."));

  public static EnrichConfig from(Config c) {
    int cache = atLeastOne(c, "enrich.user-agent.cache-size");
    int geoCache = atLeastOne(c, "enrich.geoip.cache-size");
    boolean on = c.bool("enrich.enabled");
    return new EnrichConfig(
        on,
        on && c.bool("enrich.user-agent"),
        cache,
        on && c.bool("enrich.referrer"),
        nonEmpty(c.string("enrich.referrer.file")),
        on ? c.list("enrich.geoip.database") : List.of(),
        geoCache,
        on && c.bool("enrich.privacy-signal"),
        c.duration("enrich.time.max-future"),
        c.duration("enrich.time.max-past"));
  }

  /** Everything on that needs no file; geo off. */
  public static EnrichConfig defaults() {
    return new EnrichConfig(
        true,
        true,
        10_000,
        true,
        Optional.empty(),
        List.of(),
        10_000,
        true,
        Duration.ofMinutes(10),
        Duration.ofDays(30));
  }

  public EnrichConfig {
    geoipDatabases = List.copyOf(geoipDatabases);
  }

  public EnrichConfig withGeoipDatabases(List<String> files) {
    return new EnrichConfig(
        enabled,
        userAgent,
        userAgentCacheSize,
        referrer,
        referrerFile,
        files,
        geoipCacheSize,
        privacySignal,
        maxFuture,
        maxPast);
  }

  private static int atLeastOne(Config c, String name) {
    int n = c.integer(name);
    if (n < 1) {
      throw new ConfigException(name + ": must be at least 1");
    }
    return n;
  }

  private static Optional<String> nonEmpty(String s) {
    return s == null || s.isBlank() ? Optional.empty() : Optional.of(s.trim());
  }
}
