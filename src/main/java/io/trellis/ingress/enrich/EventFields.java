package io.trellis.ingress.enrich;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.trellis.ingress.event.TrafficEvent;
import java.util.Locale;

/**
 * A stored event read back for enrichment: its body (when a JSON object), its query parameters and
 * its headers as JSON trees, looked up by the names SDKs use. Reads only the stored event, so the
 * same event always gives the same columns. Not thread-safe; one per event.
 */
final class EventFields {
  /* Stored bodies passed the capture port's depth limit (at most 500 levels). */
  private static final ObjectMapper JSON =
      JsonMapper.builder(
              JsonFactory.builder()
                  .streamReadConstraints(
                      StreamReadConstraints.builder().maxNestingDepth(1000).build())
                  .build())
          .build();

  private final TrafficEvent event;
  private final JsonNode body;
  private final JsonNode query;
  private final JsonNode headers;

  EventFields(TrafficEvent event) {
    this.event = event;
    this.body = object(event.body());
    this.query = object(event.queryParams());
    this.headers = object(event.headers());
  }

  TrafficEvent event() {
    return event;
  }

  private static JsonNode object(String text) {
    if (text == null || text.isEmpty() || text.charAt(0) != '{') {
      return null;
    }
    try {
      JsonNode n = JSON.readTree(text);
      return n != null && n.isObject() ? n : null;
    } catch (JsonProcessingException e) {
      return null;
    }
  }

  /** A top-level body field as text (strings and numbers), else null. */
  String body(String name) {
    return scalar(body == null ? null : body.get(name));
  }

  /** A field at a dotted path in the body ({@code context.campaign.term}), else null. */
  String bodyPath(String dotted) {
    JsonNode n = body;
    for (String part : dotted.split("\\.")) {
      if (n == null || !n.isObject()) {
        return null;
      }
      n = n.get(part);
    }
    return scalar(n);
  }

  /** A top-level body field as a JSON value (to tell {@code true} from {@code "true"}), or null. */
  JsonNode bodyNode(String name) {
    return body == null ? null : body.get(name);
  }

  /** The first value of a query parameter, else null. */
  String param(String name) {
    JsonNode n = query == null ? null : query.get(name);
    if (n != null && n.isArray()) {
      n = n.size() > 0 ? n.get(0) : null;
    }
    return scalar(n);
  }

  /** A request header (lower-case name), else null. */
  String header(String name) {
    return scalar(headers == null ? null : headers.get(name));
  }

  /** The first non-empty of the body fields, then of the query parameters, with these names. */
  String first(String... names) {
    for (String n : names) {
      String v = body(n);
      if (v != null) {
        return v;
      }
    }
    for (String n : names) {
      String v = param(n);
      if (v != null) {
        return v;
      }
    }
    return null;
  }

  /**
   * The URL of the page the event happened on: the body's {@code url}, {@code page_url} or {@code
   * page}, Segment's {@code properties.url}, PostHog's {@code properties.$current_url}, an SDK's
   * {@code context.page.url}, or the same query parameters (pixels); null when none is a URL.
   */
  String pageUrl() {
    String u = first("url", "page_url", "page");
    if (u == null) {
      u = bodyPath("properties.url");
    }
    if (u == null) {
      u = bodyPath("properties.$current_url");
    }
    if (u == null) {
      u = bodyPath("context.page.url");
    }
    return u != null && (u.startsWith("http://") || u.startsWith("https://")) ? u : null;
  }

  /**
   * The host of a URL, lower case, without {@code www.}; null when it has none. Cut by hand from
   * the authority (after {@code //}, before the first {@code / ? #}), without its user info and
   * port: what {@code java.net.URI} gives for a well-formed URL, and the same cut for the real URLs
   * it refuses (underscores in hosts, bad escapes), at a fraction of its cost.
   */
  static String host(String url) {
    if (url == null || url.isEmpty()) {
      return null;
    }
    int start = url.indexOf("//");
    if (start < 0) {
      return null;
    }
    start += 2;
    int end = start;
    int len = url.length();
    while (end < len) {
      char c = url.charAt(end);
      if (c == '/' || c == '?' || c == '#') {
        break;
      }
      end++;
    }
    int at = url.lastIndexOf('@', end - 1);
    if (at >= start) {
      start = at + 1;
    }
    int stop = end;
    if (start < end && url.charAt(start) == '[') {
      int close = url.indexOf(']', start);
      stop = close >= 0 && close < end ? close + 1 : end;
    } else {
      int colon = url.indexOf(':', start);
      if (colon >= 0 && colon < end) {
        stop = colon;
      }
    }
    String h = url.substring(start, stop).trim().toLowerCase(Locale.ROOT);
    if (h.endsWith(".")) {
      h = h.substring(0, h.length() - 1);
    }
    return h.isEmpty() ? null : h.startsWith("www.") ? h.substring(4) : h;
  }

  private static String scalar(JsonNode n) {
    if (n == null || n.isNull() || n.isContainerNode()) {
      return null;
    }
    String s = n.asText();
    return s.isEmpty() ? null : s;
  }
}
