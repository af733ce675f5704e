package io.trellis.ingress.live;

import io.trellis.ingress.event.TrafficEvent;
import java.util.Locale;
import java.util.function.Function;

/**
 * What one viewer wants to see: an organization, an event type and an endpoint (each exact, empty
 * for any) and a text that the stored record must contain (case-insensitive). Immutable.
 */
record LiveFilter(String organization, String eventType, String endpoint, String text) {

  static final LiveFilter ALL = new LiveFilter("", "", "", "");

  LiveFilter {
    organization = organization == null ? "" : organization.trim();
    eventType = eventType == null ? "" : eventType.trim();
    endpoint = endpoint == null ? "" : endpoint.trim();
    if (!endpoint.isEmpty() && !endpoint.startsWith("/")) {
      endpoint = "/" + endpoint;
    }
    text = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
  }

  /** From the query parameters {@code org}, {@code type}, {@code endpoint} and {@code q}. */
  static LiveFilter from(Function<String, String> param) {
    return new LiveFilter(
        param.apply("org"), param.apply("type"), param.apply("endpoint"), param.apply("q"));
  }

  /** True when every event matches. */
  boolean all() {
    return organization.isEmpty() && eventType.isEmpty() && endpoint.isEmpty() && text.isEmpty();
  }

  /** Decides on the event's fields; {@code line} is its record, read only for a text search. */
  boolean matches(TrafficEvent e, Function<TrafficEvent, String> lowerCaseLine) {
    if (!organization.isEmpty() && !organization.equals(e.organizationId())) {
      return false;
    }
    if (!eventType.isEmpty() && !eventType.equals(e.eventType())) {
      return false;
    }
    if (!endpoint.isEmpty() && !endpoint.equals(endpointOf(e.url()))) {
      return false;
    }
    return text.isEmpty() || lowerCaseLine.apply(e).contains(text);
  }

  /** The path of a stored URL ({@code http://host:port/events?x=1} is {@code /events}). */
  static String endpointOf(String url) {
    int scheme = url.indexOf("://");
    int start = scheme < 0 ? 0 : url.indexOf('/', scheme + 3);
    if (start < 0) {
      return "/";
    }
    int end = start;
    while (end < url.length() && url.charAt(end) != '?' && url.charAt(end) != '#') {
      end++;
    }
    return url.substring(start, end);
  }
}
