package io.trellis.ingress.http;

import io.trellis.ingress.capture.Endpoint;
import io.trellis.ingress.capture.EventCapture;
import io.trellis.ingress.capture.UrlEncoding;
import io.vertx.core.http.HttpMethod;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/** The routing table: which path is which endpoint, and the methods it answers. Immutable. */
final class Routes {
  private static final Set<HttpMethod> GET = Set.of(HttpMethod.GET);
  private static final Set<HttpMethod> POST = Set.of(HttpMethod.POST);
  private static final Set<HttpMethod> GET_POST = Set.of(HttpMethod.GET, HttpMethod.POST);

  /**
   * One path: its endpoint (null for an SDK's configuration call, which stores nothing) and the
   * methods it allows besides OPTIONS (CORS preflight).
   */
  record Route(String path, Endpoint endpoint, Set<HttpMethod> methods) {
    boolean allows(HttpMethod m) {
      return methods.contains(m);
    }

    /** The most body bytes a configuration call (no endpoint) may send: it is dropped unread. */
    long bodyMaxBytes() {
      return 64 * 1024;
    }

    /** The Allow header: the route's methods in a stable order, then OPTIONS. */
    String allowHeader() {
      return methods.stream().map(HttpMethod::name).sorted().collect(Collectors.joining(", "))
          + ", OPTIONS";
    }
  }

  private static final Map<String, Route> ROUTES = build();

  private Routes() {}

  /**
   * Snowplow trackers have no place for a key but the collector URL: {@code
   * /snowplow/KEY/com.snowplowanalytics.snowplow/tp2} and {@code /snowplow/KEY/i} carry it as a
   * path segment.
   */
  static final String SNOWPLOW_KEY_PREFIX = "/snowplow/";

  /** The route of a path, or null when there is none. */
  static Route find(String path) {
    if (path == null) {
      return null;
    }
    Route r = ROUTES.get(path);
    int end = keyEnd(path);
    if (r != null || end < 0) {
      return r;
    }
    Route inner = ROUTES.get(path.substring(end));
    return inner != null && inner.endpoint().isSnowplow() ? inner : null;
  }

  /** The key a path carries as a segment, or null. */
  static String pathKey(String path) {
    int end = path == null ? -1 : keyEnd(path);
    return end < 0 ? null : UrlEncoding.decode(path, SNOWPLOW_KEY_PREFIX.length(), end);
  }

  /** The path as it may be logged or echoed: a key segment replaced by [redacted]. */
  static String loggable(String path) {
    int end = path == null ? -1 : keyEnd(path);
    if (end >= 0) {
      return SNOWPLOW_KEY_PREFIX + EventCapture.REDACTED + path.substring(end);
    }
    return SdkConfig.loggable(path);
  }

  /** Where the key segment of a keyed path ends, or -1 for other paths. */
  private static int keyEnd(String path) {
    if (!path.startsWith(SNOWPLOW_KEY_PREFIX)) {
      return -1;
    }
    int slash = path.indexOf('/', SNOWPLOW_KEY_PREFIX.length());
    return slash > SNOWPLOW_KEY_PREFIX.length() ? slash : -1;
  }

  private static Map<String, Route> build() {
    Map<String, Route> m = new HashMap<>();
    add(m, "/events", Endpoint.EVENTS, POST);
    add(m, "/track", Endpoint.TRACK, GET);
    add(m, "/pixel", Endpoint.PIXEL, GET_POST);
    add(m, "/batch", Endpoint.BATCH, POST);
    add(m, "/r", Endpoint.REDIRECT, GET);
    // The Segment HTTP tracking API, with the short paths analytics.js posts to.
    segment(m, "track", "t", Endpoint.SEGMENT_TRACK);
    segment(m, "page", "p", Endpoint.SEGMENT_PAGE);
    segment(m, "screen", "s", Endpoint.SEGMENT_SCREEN);
    segment(m, "identify", "i", Endpoint.SEGMENT_IDENTIFY);
    segment(m, "group", "g", Endpoint.SEGMENT_GROUP);
    segment(m, "alias", "a", Endpoint.SEGMENT_ALIAS);
    segment(m, "batch", "b", Endpoint.SEGMENT_BATCH);
    add(m, "/v1/import", Endpoint.SEGMENT_BATCH, POST);
    // PostHog's capture API, with and without the trailing slash its SDKs add.
    for (String p : List.of("/e", "/i/v0/e", "/batch/", "/capture")) {
      add(m, p, Endpoint.POSTHOG, POST);
      if (!p.endsWith("/")) {
        add(m, p + "/", Endpoint.POSTHOG, POST);
      }
    }
    add(m, "/com.snowplowanalytics.snowplow/tp2", Endpoint.SNOWPLOW, POST);
    add(m, "/i", Endpoint.SNOWPLOW_PIXEL, GET);
    return Map.copyOf(m);
  }

  private static void segment(Map<String, Route> m, String name, String shortName, Endpoint e) {
    add(m, "/v1/" + name, e, POST);
    add(m, "/v1/" + shortName, e, POST);
  }

  private static void add(Map<String, Route> m, String path, Endpoint e, Set<HttpMethod> methods) {
    m.put(path, new Route(path, e, methods));
  }
}
