package io.trellis.ingress.enrich;

import io.trellis.ingress.base.JsonPaths;
import io.trellis.ingress.event.Enrichments;
import io.trellis.ingress.event.EventField;
import io.trellis.ingress.event.TrafficEvent;
import java.util.List;
import java.util.Locale;

/**
 * A stored event read back for enrichment: the {@link EventField}s of its body (when a JSON object)
 * and of its query parameters, and two of its headers, each read in one streaming pass when first
 * asked for; the body's from where its record's index says they start, when it has one. Reads only
 * the stored event, so the same event always gives the same columns. The headers and query the
 * event shares with the one before it on the thread (the same string) are not read again. Not
 * thread-safe; one per event.
 */
final class EventFields {
  private static final List<EventField> FIELDS = List.of(EventField.values());

  /* The top-level names come first in EventField, so their slots are the same as the body's. */
  private static final JsonPaths QUERY =
      JsonPaths.firstOfArrays(
          FIELDS.stream().takeWhile(EventField::topLevel).map(EventField::path).toList());

  /** The request headers the enrichments read (stored with lower-case names). */
  enum Header {
    SEC_GPC("sec-gpc"),
    DNT("dnt");

    final String name;

    Header(String name) {
      this.name = name;
    }
  }

  private static final JsonPaths HEADERS =
      JsonPaths.of(List.of(Header.values()).stream().map(h -> h.name).toList());

  private static final EventField[] PAGE_URL = {
    EventField.URL, EventField.PAGE_URL, EventField.PAGE
  };

  /*
   * The headers and the query the last event on this thread had, and what was read from them. The
   * events of one request share these fields, and a sink decodes a batch's shared fields into one
   * string (EventCodec.decode with the previous record): the same object is the same text, read
   * once per request.
   */
  private static final ThreadLocal<Request> LAST_REQUEST = ThreadLocal.withInitial(Request::new);

  private static final class Request {
    private final LastRead headers = new LastRead(HEADERS);
    private final LastRead query = new LastRead(QUERY);
  }

  /** One field's text read last on the thread and what its paths found there. */
  private static final class LastRead {
    private final JsonPaths paths;
    private String text;
    private JsonPaths.Values values;

    LastRead(JsonPaths paths) {
      this.paths = paths;
    }

    /** What the paths find in {@code t}: read again only when it is not the last string read. */
    JsonPaths.Values read(String t) {
      if (text != t) {
        values = paths.read(t);
        text = t;
      }
      return values;
    }
  }

  private final TrafficEvent event;
  private Request request;
  private JsonPaths.Values body;
  private JsonPaths.Values query;
  private JsonPaths.Values headers;
  private boolean pageUrlRead;
  private String pageUrl;

  EventFields(TrafficEvent event) {
    this.event = event;
  }

  TrafficEvent event() {
    return event;
  }

  /** A body field (top-level or at its dotted path) as text (strings, numbers), else null. */
  String body(EventField f) {
    if (body == null) {
      // Capture read these fields already and stored where they start, when it could.
      body = Enrichments.indexedBody(event);
      if (body == null) {
        body = EventField.BODY_PATHS.read(event.body());
      }
    }
    return body.text(f.ordinal());
  }

  /**
   * Whether a body field is the JSON literal {@code false}, not a string or absent (PostHog's
   * {@code $is_identified}).
   */
  boolean bodyIsFalse(EventField f) {
    body(f);
    return body.isFalse(f.ordinal());
  }

  /** The first value of a query parameter (a top-level name), else null. */
  String param(EventField f) {
    if (!f.topLevel()) {
      throw new IllegalArgumentException("not a parameter name: " + f.path());
    }
    if (query == null) {
      query = request().query.read(event.queryParams());
    }
    return query.text(f.ordinal());
  }

  /** A request header, else null. */
  String header(Header h) {
    if (headers == null) {
      headers = request().headers.read(event.headers());
    }
    return headers.text(h.ordinal());
  }

  private Request request() {
    if (request == null) {
      request = LAST_REQUEST.get();
    }
    return request;
  }

  /** The first non-empty of the body fields, then of the query parameters, with these names. */
  String first(EventField... names) {
    for (EventField n : names) {
      String v = body(n);
      if (v != null) {
        return v;
      }
    }
    for (EventField n : names) {
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
   * Several enrichments read it; it is found once.
   */
  String pageUrl() {
    if (!pageUrlRead) {
      pageUrl = findPageUrl();
      pageUrlRead = true;
    }
    return pageUrl;
  }

  private String findPageUrl() {
    String u = first(PAGE_URL);
    if (u == null) {
      u = body(EventField.PROPERTIES_URL);
    }
    if (u == null) {
      u = body(EventField.PROPERTIES_CURRENT_URL);
    }
    if (u == null) {
      u = body(EventField.CONTEXT_PAGE_URL);
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
}
