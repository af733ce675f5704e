package io.trellis.ingress.http;

import io.trellis.ingress.capture.Endpoint;
import io.vertx.core.http.HttpMethod;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/** The routing table: which path is which endpoint, and the methods it answers. Immutable. */
final class Routes {
  private static final Set<HttpMethod> GET = Set.of(HttpMethod.GET);
  private static final Set<HttpMethod> POST = Set.of(HttpMethod.POST);
  private static final Set<HttpMethod> GET_POST = Set.of(HttpMethod.GET, HttpMethod.POST);

  /** One path: its endpoint and the methods it allows besides OPTIONS (CORS preflight). */
  record Route(String path, Endpoint endpoint, Set<HttpMethod> methods) {
    boolean allows(HttpMethod m) {
      return methods.contains(m);
    }

    /** The Allow header: the route's methods in a stable order, then OPTIONS. */
    String allowHeader() {
      return methods.stream().map(HttpMethod::name).sorted().collect(Collectors.joining(", "))
          + ", OPTIONS";
    }
  }

  private static final Map<String, Route> ROUTES = build();

  private Routes() {}

  /** The route of a path, or null when there is none. */
  static Route find(String path) {
    return path == null ? null : ROUTES.get(path);
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
