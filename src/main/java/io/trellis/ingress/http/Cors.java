package io.trellis.ingress.http;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.util.List;
import java.util.Locale;

/**
 * Cross-origin access for pages on other sites: mirrors the request's {@code Origin} (or checks it
 * against the allow-list), allows credentials and whatever headers the preflight asks for, and lets
 * browsers cache the preflight for a long time. Immutable.
 *
 * <p>The opaque origin {@code null} (sandboxed frames, {@code file:} pages, some redirects) is
 * never granted: any document can claim it, so granting it with credentials would let every such
 * page read answers sent with the browser's cookies. Private-network access is granted only when
 * {@code cors.allow-private-network} is set, so a public page cannot reach an instance on a private
 * address unless the operator meant it to.
 *
 * <p>The allow-list only governs what browsers let a page read. It does not refuse events: a beacon
 * or a form post from any origin still carries a valid key and is captured like any other request.
 */
final class Cors {
  private static final CharSequence VARY = HttpHeaders.VARY;
  private static final CharSequence VARY_ORIGIN = HttpHeaders.createOptimized("Origin");
  private static final CharSequence ALLOW_ORIGIN = HttpHeaders.ACCESS_CONTROL_ALLOW_ORIGIN;
  private static final CharSequence ALLOW_CREDENTIALS =
      HttpHeaders.ACCESS_CONTROL_ALLOW_CREDENTIALS;
  private static final CharSequence EXPOSE_HEADERS = HttpHeaders.ACCESS_CONTROL_EXPOSE_HEADERS;
  private static final CharSequence TRUE = HttpHeaders.createOptimized("true");
  private static final CharSequence RETRY_AFTER = HttpHeaders.createOptimized("Retry-After");

  private static final String OPAQUE_ORIGIN = "null";

  private final List<String> allowed;
  private final String maxAgeSeconds;
  private final boolean privateNetwork;

  Cors(ClientConfig config) {
    this.allowed =
        config.allowedOrigins().stream().map(o -> trimSlash(o.toLowerCase(Locale.ROOT))).toList();
    this.maxAgeSeconds = Long.toString(config.corsMaxAge().toSeconds());
    this.privateNetwork = config.allowPrivateNetwork();
  }

  /** True when a page of this origin may read answers. */
  boolean allows(String origin) {
    if (origin.trim().equalsIgnoreCase(OPAQUE_ORIGIN)) {
      return false;
    }
    if (allowed.isEmpty() || allowed.contains("*")) {
      return true;
    }
    String o = origin.toLowerCase(Locale.ROOT);
    for (String a : allowed) {
      if (a.equals(o) || wildcardMatch(a, o)) {
        return true;
      }
    }
    return false;
  }

  /** Adds the CORS headers of an actual (non-preflight) answer when the origin may read it. */
  void decorate(HttpServerRequest req) {
    MultiMap h = req.response().headers();
    h.add(VARY, VARY_ORIGIN);
    String origin = req.getHeader(HttpHeaders.ORIGIN);
    if (origin != null && allows(origin)) {
      h.set(ALLOW_ORIGIN, origin);
      h.set(ALLOW_CREDENTIALS, TRUE);
      h.set(EXPOSE_HEADERS, RETRY_AFTER);
    }
  }

  /** Answers an OPTIONS request: a CORS preflight, or a plain question about allowed methods. */
  void preflight(HttpServerRequest req, Routes.Route route) {
    HttpServerResponse res = req.response();
    MultiMap h = res.headers();
    String origin = req.getHeader("origin");
    String method = req.getHeader("access-control-request-method");
    h.set("Allow", route.allowHeader());
    if (origin == null || method == null) {
      res.setStatusCode(204).end();
      return;
    }
    h.set("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
    if (!allows(origin)) {
      Responses.error(
          res,
          new HttpError(
              403, "origin_not_allowed", "pages of " + origin + " may not call this service"));
      return;
    }
    h.set("Access-Control-Allow-Origin", origin);
    h.set("Access-Control-Allow-Credentials", "true");
    h.set("Access-Control-Allow-Methods", route.allowHeader());
    String requested = req.getHeader("access-control-request-headers");
    if (requested != null && !requested.isBlank()) {
      h.set("Access-Control-Allow-Headers", requested);
    }
    if (privateNetwork
        && "true".equalsIgnoreCase(req.getHeader("access-control-request-private-network"))) {
      h.set("Access-Control-Allow-Private-Network", "true");
    }
    h.set("Access-Control-Max-Age", maxAgeSeconds);
    h.set("Cache-Control", "no-store");
    res.setStatusCode(204).end();
  }

  /** {@code https://*.shop.example} allows {@code https://a.shop.example}, not the bare host. */
  private static boolean wildcardMatch(String pattern, String origin) {
    int star = pattern.indexOf("://*.");
    if (star < 0) {
      return false;
    }
    String scheme = pattern.substring(0, star + 3);
    String suffix = pattern.substring(star + 4);
    return origin.startsWith(scheme)
        && origin.endsWith(suffix)
        && origin.length() > scheme.length() + suffix.length()
        && origin.indexOf('/', scheme.length()) < 0;
  }

  private static String trimSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  @Override
  public String toString() {
    return "Cors{"
        + (allowed.isEmpty() ? "any origin" : allowed)
        + ", maxAge="
        + maxAgeSeconds
        + "s, privateNetwork="
        + privateNetwork
        + "}";
  }
}
