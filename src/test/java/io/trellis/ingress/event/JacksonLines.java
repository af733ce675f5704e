package io.trellis.ingress.event;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * The NDJSON lines as the files sink wrote them before {@link EventLines}: one Jackson generator
 * per event. The reference that {@code EventLinesTest} compares against byte for byte, and that
 * {@code FilesSinkBenchmark} measures in the same run.
 */
public final class JacksonLines {
  private static final JsonFactory JSON = new JsonFactory();
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private JacksonLines() {}

  public static void write(OutputStream out, TrafficEvent e, long ingestedAt) throws IOException {
    try (JsonGenerator g = JSON.createGenerator(out, JsonEncoding.UTF8)) {
      g.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
      g.writeStartObject();
      g.writeStringField("organization_id", e.organizationId());
      g.writeStringField("event_id", e.eventId());
      g.writeStringField("timestamp", TIME.format(Instant.ofEpochMilli(e.timestamp())));
      g.writeStringField("method", e.method());
      g.writeStringField("url", e.url());
      g.writeFieldName("headers");
      g.writeRawValue(e.headers());
      g.writeFieldName("query_params");
      g.writeRawValue(e.queryParams());
      g.writeStringField("body", e.body());
      g.writeStringField("ip", e.ip());
      g.writeStringField("user_agent", e.userAgent());
      g.writeStringField("referer", e.referer());
      g.writeStringField("event_type", e.eventType());
      g.writeStringField("click_id", e.clickId());
      g.writeStringField("session_id", e.sessionId());
      g.writeStringField("source", e.source());
      g.writeStringField("medium", e.medium());
      g.writeStringField("campaign", e.campaign());
      // The derived columns, written field by field from the enrichment (EventSchema's order).
      Enrichment x = Enrichments.of(e);
      g.writeStringField("term", x.term());
      g.writeStringField("content", x.content());
      if (x.clientTimestamp() != Enrichment.NO_TIME) {
        g.writeStringField(
            "client_timestamp", TIME.format(Instant.ofEpochMilli(x.clientTimestamp())));
      }
      if (x.sentAt() != Enrichment.NO_TIME) {
        g.writeStringField("sent_at", TIME.format(Instant.ofEpochMilli(x.sentAt())));
      }
      g.writeStringField("event_time", TIME.format(Instant.ofEpochMilli(x.eventTime())));
      g.writeStringField("event_time_source", x.eventTimeSource());
      g.writeStringField("user_id", x.userId());
      g.writeStringField("anonymous_id", x.anonymousId());
      g.writeStringField("referrer_class", x.referrerClass());
      g.writeStringField("browser", x.browser());
      g.writeStringField("browser_version", x.browserVersion());
      g.writeStringField("os", x.os());
      g.writeStringField("device_class", x.deviceClass());
      g.writeStringField(
          "is_bot", x.browser().isEmpty() && !x.isBot() ? "" : String.valueOf(x.isBot()));
      g.writeStringField("geo_country", x.geoCountry());
      g.writeStringField("geo_region", x.geoRegion());
      g.writeStringField("geo_city", x.geoCity());
      g.writeStringField("geo_asn", x.geoAsn());
      g.writeStringField("privacy_signal", x.privacySignal());
      g.writeStringField("ingested_at", TIME.format(Instant.ofEpochMilli(ingestedAt)));
      g.writeEndObject();
      g.flush();
      out.write('\n');
    }
  }
}
