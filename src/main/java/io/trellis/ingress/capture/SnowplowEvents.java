package io.trellis.ingress.capture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

/**
 * The event type of a Snowplow tracker-protocol event, named as Snowplow's own enrichment names it
 * ({@code event_name}): {@code page_view}, {@code page_ping}, {@code event} (a structured event),
 * {@code transaction}, {@code transaction_item}, and for a self-describing event ({@code e=ue}) the
 * name of its schema ({@code iglu:com.acme/checkout/jsonschema/1-0-0} gives {@code checkout}).
 */
final class SnowplowEvents {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, String> NAMES =
      Map.of(
          "pv", "page_view",
          "pp", "page_ping",
          "se", "event",
          "tr", "transaction",
          "ti", "transaction_item");

  private SnowplowEvents() {}

  /**
   * The type of an event with these fields; null when {@code e} is absent. An unknown {@code e}, or
   * a self-describing event whose schema cannot be read, keeps its code ({@code ue}).
   *
   * @param uePr the self-describing event as JSON text, or null
   * @param uePx the same as URL-safe base64 (what trackers send by default), or null
   */
  static String eventType(String e, String uePr, String uePx) {
    if (e == null) {
      return null;
    }
    if (e.equals("ue")) {
      String name = schemaName(uePr != null ? uePr : decode(uePx));
      return name != null ? name : e;
    }
    return NAMES.getOrDefault(e, e);
  }

  /** The name part of the inner schema of {@code {"schema":…,"data":{"schema":IGLU,…}}}. */
  private static String schemaName(String json) {
    if (json == null) {
      return null;
    }
    try {
      JsonNode inner = JSON.readTree(json).path("data").path("schema");
      if (!inner.isTextual()) {
        return null;
      }
      // iglu:VENDOR/NAME/FORMAT/VERSION
      String[] parts = inner.asText().split("/");
      return parts.length == 4 && !parts[1].isEmpty() ? parts[1] : null;
    } catch (java.io.IOException e) {
      return null;
    }
  }

  private static String decode(String base64) {
    if (base64 == null) {
      return null;
    }
    String b = base64.trim().replace('+', '-').replace('/', '_');
    try {
      return new String(Base64.getUrlDecoder().decode(b), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
