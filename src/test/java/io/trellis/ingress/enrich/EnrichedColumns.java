package io.trellis.ingress.enrich;

import java.util.List;

/** For upgrade tests: the table of the version before enrichment is the schema without these. */
public final class EnrichedColumns {
  private EnrichedColumns() {}

  /** The columns enrichment derives, which a table of the version before them lacks. */
  public static final List<String> NAMES =
      List.of(
          "term",
          "content",
          "client_timestamp",
          "sent_at",
          "event_time",
          "event_time_source",
          "user_id",
          "anonymous_id",
          "referrer_class",
          "browser",
          "browser_version",
          "os",
          "device_class",
          "is_bot",
          "geo_country",
          "geo_region",
          "geo_city",
          "geo_asn",
          "privacy_signal");
}
