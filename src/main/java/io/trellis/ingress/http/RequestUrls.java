package io.trellis.ingress.http;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.SocketAddress;

/**
 * A request's absolute URL, the stored {@code url} of every event: the scheme, the host the client
 * named ({@code Host}, or HTTP/2's {@code :authority}) with its port unless it is the scheme's
 * default, then the path and query as sent. A request in absolute form ({@code GET http://...}) is
 * its URI without any user name and password before the host; one without a host (HTTP/1.0, an
 * empty {@code Host}) gets the address it reached.
 *
 * <p>Behind a proxy the client did not reach this port: the proxy did, often over plain HTTP for a
 * client that used HTTPS, sometimes naming its upstream as the host, and sometimes after removing
 * the path it serves the service under. So when the peer is a trusted proxy ({@code
 * capture.trusted-proxies}), the scheme is the one its {@code X-Forwarded-Proto} or {@code
 * Forwarded: proto=} names ({@code http} or {@code https}), the host the one its {@code
 * X-Forwarded-Host} or {@code Forwarded: host=} names, the port the one its {@code
 * X-Forwarded-Port} names, all from the first value (the client's side of a chain of proxies), and
 * the path starts with what its {@code X-Forwarded-Prefix} names (every value, in order). A value
 * that is not a scheme, a host, a port or a path is ignored. From any other peer those headers are
 * stored with the others and change nothing.
 *
 * <p>Not {@link HttpServerRequest#absoluteURI()}: for a host without a port, Vert.x 5.0 writes
 * {@code :-1} after it ({@code http://shop.example:-1/events}), and it builds the URL anew for each
 * request (a look for a TLS handler in the connection's pipeline, a parse of the host, a join),
 * which costs about as much as reading the event's JSON. The part before the path depends only on
 * the host and scheme headers and the server's scheme, and nearly every request an event loop reads
 * names the same ones: each event loop keeps the last headers it saw and the prefix made of them,
 * and a request in origin form ({@code /path?query}) with those headers is that prefix and its URI.
 *
 * <p>One instance per server (its handler's), as the prefix holds the server's scheme; used by the
 * server's event loops, each with its own last headers.
 */
final class RequestUrls {
  private static final String HTTP = "http";
  private static final String HTTPS = "https";
  private static final CharSequence X_FORWARDED_PROTO =
      HttpHeaders.createOptimized("X-Forwarded-Proto");
  private static final CharSequence X_FORWARDED_HOST =
      HttpHeaders.createOptimized("X-Forwarded-Host");
  private static final CharSequence X_FORWARDED_PORT =
      HttpHeaders.createOptimized("X-Forwarded-Port");
  private static final CharSequence X_FORWARDED_PREFIX =
      HttpHeaders.createOptimized("X-Forwarded-Prefix");
  private static final CharSequence FORWARDED = HttpHeaders.createOptimized("Forwarded");

  /** RFC 3986's path characters (pchar) other than a percent-encoded octet. */
  private static final String PATH_CHARS = "._~!$&'()*+;=:@-/";

  private final ThreadLocal<Last> last = ThreadLocal.withInitial(Last::new);

  /**
   * What a trusted proxy's headers say of the URL the client used, as sent (each null when absent):
   * {@code X-Forwarded-Proto}, {@code -Host}, {@code -Port} and {@code -Prefix}, and the {@code
   * proto=} and {@code host=} of {@code Forwarded} (not the whole header: its {@code for=} differs
   * from client to client).
   */
  private record Proxied(
      String proto,
      String host,
      String port,
      String prefix,
      String forwardedProto,
      String forwardedHost) {
    static final Proxied NONE = new Proxied(null, null, null, null, null, null);

    static Proxied of(HttpServerRequest req, boolean fromTrustedProxy) {
      if (!fromTrustedProxy) {
        return NONE;
      }
      MultiMap headers = req.headers();
      String forwarded = headers.get(FORWARDED);
      return new Proxied(
          headers.get(X_FORWARDED_PROTO),
          headers.get(X_FORWARDED_HOST),
          headers.get(X_FORWARDED_PORT),
          headers.get(X_FORWARDED_PREFIX),
          param(forwarded, "proto"),
          param(forwarded, "host"));
    }
  }

  /* What the URL's part before the path was made of: Host and a trusted proxy's headers. */
  private static final class Last {
    private String host;
    private Proxied proxied;
    private String prefix;
  }

  /**
   * The request's absolute URL; its URI alone for the {@code *} form.
   *
   * @param fromTrustedProxy the peer is a trusted proxy, whose scheme, host, port and prefix
   *     headers say what the client used
   */
  String of(HttpServerRequest req, boolean fromTrustedProxy) {
    String uri = req.uri();
    if (uri.isEmpty() || uri.charAt(0) != '/') {
      return withoutUserInfo(orUri(req.absoluteURI(), uri));
    }
    Proxied proxied = Proxied.of(req, fromTrustedProxy);
    String host = req.version() == HttpVersion.HTTP_2 ? null : req.headers().get(HttpHeaders.HOST);
    if (host == null) {
      return prefix(req, proxied).concat(uri);
    }
    Last seen = last.get();
    if (!host.equals(seen.host) || !proxied.equals(seen.proxied)) {
      seen.prefix = prefix(req, proxied);
      seen.host = host;
      seen.proxied = proxied;
    }
    return seen.prefix.concat(uri);
  }

  /**
   * The URL's part before the path the request sent: the host the request names, else the address
   * it reached; a trusted proxy's scheme, host, port and path prefix when its headers name them.
   */
  private static String prefix(HttpServerRequest req, Proxied proxied) {
    String scheme = scheme(first(proxied.proto), proxied.forwardedProto);
    HostAndPort authority = namedAuthority(req, proxied);
    if (authority == null || authority.host().isEmpty()) {
      SocketAddress local = req.localAddress();
      String address = local == null ? null : local.hostAddress();
      if (address == null) {
        return "";
      }
      authority =
          HostAndPort.create(
              address.indexOf(':') >= 0 ? "[" + address + "]" : address, local.port());
    }
    return origin(scheme != null ? scheme : req.scheme(), authority) + pathPrefix(proxied.prefix);
  }

  /**
   * Where the client sent the request, as {@code host[:port][/prefix]}: the host and port it named
   * and, from a trusted proxy, the host, port and path prefix the proxy names; null when it named
   * no host.
   */
  static String clientLocation(HttpServerRequest req, boolean fromTrustedProxy) {
    Proxied proxied = Proxied.of(req, fromTrustedProxy);
    HostAndPort authority = namedAuthority(req, proxied);
    return authority == null ? null : authority + pathPrefix(proxied.prefix);
  }

  /**
   * The host and port the request names ({@link #authority}), or those a trusted proxy names in
   * their place; null when neither names a host.
   */
  private static HostAndPort namedAuthority(HttpServerRequest req, Proxied proxied) {
    HostAndPort host = host(req, first(proxied.host), proxied.forwardedHost);
    return host == null ? null : withPort(host, proxied.port);
  }

  /**
   * The host with the port of an {@code X-Forwarded-Port} value (its first, a number from 1 to
   * 65535) in place of its own; the host as it is when the value is null or not such a port.
   */
  private static HostAndPort withPort(HostAndPort host, String forwardedPort) {
    String v = first(forwardedPort);
    if (v == null || v.isEmpty() || v.length() > 5) {
      return host;
    }
    int port = 0;
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        return host;
      }
      port = port * 10 + (c - '0');
    }
    return port < 1 || port > 65_535 ? host : HostAndPort.create(host.host(), port);
  }

  /**
   * The path an {@code X-Forwarded-Prefix} value names, to put before the request's own: its
   * comma-separated values joined in order (each proxy of a chain appends the prefix it removed),
   * each without its trailing slashes. Empty when the value is null, or when any part of it is not
   * a path of RFC 3986's characters starting with a slash: a stored URL is never built from half a
   * header.
   */
  static String pathPrefix(String header) {
    if (header == null) {
      return "";
    }
    StringBuilder path = new StringBuilder();
    for (String part : header.split(",", -1)) {
      String p = part.trim();
      if (!isPath(p)) {
        return "";
      }
      int end = p.length();
      while (end > 0 && p.charAt(end - 1) == '/') {
        end--;
      }
      path.append(p, 0, end);
    }
    return path.toString();
  }

  /**
   * Whether the text is an absolute path of RFC 3986's characters: a {@code /} first, then letters,
   * digits, {@link #PATH_CHARS} and {@code %} with two hex digits. Checked char by char, not with a
   * regular expression: Java's matches a repeated group by recursion, and a header's worth of path
   * overflowed the event loop's stack.
   */
  private static boolean isPath(String p) {
    if (p.isEmpty() || p.charAt(0) != '/') {
      return false;
    }
    for (int i = 1; i < p.length(); i++) {
      char c = p.charAt(i);
      if (c == '%') {
        if (i + 2 >= p.length() || !isHexDigit(p.charAt(i + 1)) || !isHexDigit(p.charAt(i + 2))) {
          return false;
        }
        i += 2;
      } else if (!(c < 0x80 && (Character.isLetterOrDigit(c) || PATH_CHARS.indexOf(c) >= 0))) {
        return false;
      }
    }
    return true;
  }

  private static boolean isHexDigit(char c) {
    return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
  }

  /**
   * The scheme the caller used, believed from any peer: {@code X-Forwarded-Proto} when it says http
   * or https, else the connection's. For answers that go back to the caller alone (the Segment
   * settings), where a false scheme only misdirects the caller's own SDK; never for stored data.
   */
  static String callerScheme(HttpServerRequest req) {
    String scheme = scheme(first(req.getHeader(X_FORWARDED_PROTO)));
    return scheme != null ? scheme : req.isSSL() ? HTTPS : HTTP;
  }

  /**
   * The host a proxy's {@code X-Forwarded-Host} value or {@code Forwarded: host=} names (null when
   * absent or unreadable), else the request's own {@link #authority}.
   */
  private static HostAndPort host(
      HttpServerRequest req, String forwardedHost, String forwardedHostParam) {
    HostAndPort proxied = proxiedHost(forwardedHost, forwardedHostParam);
    return proxied != null ? proxied : authority(req);
  }

  /**
   * The host and port the request names ({@code Host}, HTTP/2's {@code :authority}); null when it
   * names none or one Vert.x cannot read. Vert.x 5.0's own {@link HttpServerRequest#authority()}
   * throws for some hosts the URI syntax allows ({@code Host: a%41}: a percent-encoded octet at the
   * end of the name), which would leave the request unanswered.
   */
  static HostAndPort authority(HttpServerRequest req) {
    try {
      return req.authority();
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** {@code http} or {@code https} from the first of the values that names one, else null. */
  private static String scheme(String... values) {
    for (String v : values) {
      if (v != null) {
        if (v.equalsIgnoreCase(HTTPS)) {
          return HTTPS;
        }
        if (v.equalsIgnoreCase(HTTP)) {
          return HTTP;
        }
      }
    }
    return null;
  }

  /** The first of the values that is a host with an optional port, else null. */
  private static HostAndPort proxiedHost(String... values) {
    for (String v : values) {
      if (v != null && !v.isEmpty()) {
        try {
          HostAndPort h = HostAndPort.parseAuthority(v, -1);
          if (h != null && !h.host().isEmpty()) {
            return h;
          }
        } catch (RuntimeException e) {
          // Not a host Vert.x can read (see authority): the next value, or the request's own.
        }
      }
    }
    return null;
  }

  /** The first of a header's comma-separated values, trimmed; null when it has none. */
  private static String first(String header) {
    if (header == null) {
      return null;
    }
    int comma = header.indexOf(',');
    return (comma < 0 ? header : header.substring(0, comma)).trim();
  }

  /**
   * The value of {@code name} in the first element of a {@code Forwarded} header (RFC 7239: {@code
   * for=..;proto=https;host=shop.example, for=..}), unquoted; null when it has none.
   */
  static String param(String forwarded, String name) {
    if (forwarded == null) {
      return null;
    }
    String element = first(forwarded);
    for (String pair : element.split(";")) {
      int eq = pair.indexOf('=');
      if (eq > 0 && pair.substring(0, eq).trim().equalsIgnoreCase(name)) {
        String v = pair.substring(eq + 1).trim();
        if (v.length() >= 2 && v.charAt(0) == '"' && v.charAt(v.length() - 1) == '"') {
          v = v.substring(1, v.length() - 1);
        }
        return v;
      }
    }
    return null;
  }

  /** {@code scheme://host}, and {@code :port} when the host names one other than the default. */
  private static String origin(String scheme, HostAndPort authority) {
    int port = authority.port();
    int defaultPort = "https".equals(scheme) ? 443 : 80;
    String origin = scheme + "://" + authority.host();
    return port > 0 && port != defaultPort ? origin + ":" + port : origin;
  }

  /**
   * The URL without the user name and password an absolute-form request may carry before its host
   * ({@code http://user:secret@host/}): credentials are never stored.
   */
  static String withoutUserInfo(String url) {
    int start = url.indexOf("://");
    if (start < 0) {
      return url;
    }
    start += 3;
    int end = start;
    while (end < url.length() && "/?#".indexOf(url.charAt(end)) < 0) {
      end++;
    }
    int at = url.lastIndexOf('@', end - 1);
    return at < start ? url : url.substring(0, start) + url.substring(at + 1);
  }

  private static String orUri(String url, String uri) {
    return url != null ? url : uri;
  }
}
