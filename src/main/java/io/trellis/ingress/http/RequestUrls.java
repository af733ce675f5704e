package io.trellis.ingress.http;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.SocketAddress;
import java.util.Objects;

/**
 * A request's absolute URL, the stored {@code url} of every event: the scheme, the host the client
 * named ({@code Host}, or HTTP/2's {@code :authority}) with its port unless it is the scheme's
 * default, then the path and query as sent. A request in absolute form ({@code GET http://...}) is
 * its URI without any user name and password before the host; one without a host (HTTP/1.0, an
 * empty {@code Host}) gets the address it reached.
 *
 * <p>Behind a proxy the client did not reach this port: the proxy did, often over plain HTTP for a
 * client that used HTTPS, and sometimes naming its upstream as the host. So when the peer is a
 * trusted proxy ({@code capture.trusted-proxies}), the scheme is the one its {@code
 * X-Forwarded-Proto} or {@code Forwarded: proto=} names ({@code http} or {@code https}) and the
 * host the one its {@code X-Forwarded-Host} or {@code Forwarded: host=} names; the first value of
 * each (the client's side of a chain of proxies), and a value that is not a scheme or a host is
 * ignored. From any other peer those headers are stored with the others and change nothing.
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
  private static final CharSequence FORWARDED = HttpHeaders.createOptimized("Forwarded");

  private final ThreadLocal<Last> last = ThreadLocal.withInitial(Last::new);

  /*
   * What the prefix was made of: Host, and from a trusted proxy X-Forwarded-Proto and -Host and the
   * proto= and host= of Forwarded (not the whole header: its for= differs from client to client).
   */
  private static final class Last {
    private String host;
    private String proto;
    private String forwardedHost;
    private String forwardedProtoParam;
    private String forwardedHostParam;
    private String prefix;
  }

  /**
   * The request's absolute URL; its URI alone for the {@code *} form.
   *
   * @param fromTrustedProxy the peer is a trusted proxy, whose scheme and host headers say what the
   *     client used
   */
  String of(HttpServerRequest req, boolean fromTrustedProxy) {
    String uri = req.uri();
    if (uri.isEmpty() || uri.charAt(0) != '/') {
      return withoutUserInfo(orUri(req.absoluteURI(), uri));
    }
    MultiMap headers = req.headers();
    String proto = null;
    String forwardedHost = null;
    String forwardedProtoParam = null;
    String forwardedHostParam = null;
    if (fromTrustedProxy) {
      proto = headers.get(X_FORWARDED_PROTO);
      forwardedHost = headers.get(X_FORWARDED_HOST);
      String forwarded = headers.get(FORWARDED);
      if (forwarded != null) {
        forwardedProtoParam = param(forwarded, "proto");
        forwardedHostParam = param(forwarded, "host");
      }
    }
    String host = req.version() == HttpVersion.HTTP_2 ? null : headers.get(HttpHeaders.HOST);
    if (host == null) {
      return prefix(req, proto, forwardedHost, forwardedProtoParam, forwardedHostParam).concat(uri);
    }
    Last seen = last.get();
    if (!host.equals(seen.host)
        || !Objects.equals(proto, seen.proto)
        || !Objects.equals(forwardedHost, seen.forwardedHost)
        || !Objects.equals(forwardedProtoParam, seen.forwardedProtoParam)
        || !Objects.equals(forwardedHostParam, seen.forwardedHostParam)) {
      seen.prefix = prefix(req, proto, forwardedHost, forwardedProtoParam, forwardedHostParam);
      seen.host = host;
      seen.proto = proto;
      seen.forwardedHost = forwardedHost;
      seen.forwardedProtoParam = forwardedProtoParam;
      seen.forwardedHostParam = forwardedHostParam;
    }
    return seen.prefix.concat(uri);
  }

  /**
   * The URL's part before the path: the host the request names, else the address it reached; a
   * trusted proxy's scheme and host when its headers name them (each null when the peer is not
   * trusted or the header is absent).
   */
  private static String prefix(
      HttpServerRequest req,
      String proto,
      String forwardedHost,
      String forwardedProtoParam,
      String forwardedHostParam) {
    String scheme = scheme(first(proto), forwardedProtoParam);
    HostAndPort authority = host(req, first(forwardedHost), forwardedHostParam);
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
    return origin(scheme != null ? scheme : req.scheme(), authority);
  }

  /**
   * The host and port the client named: from a trusted proxy, the one its {@code X-Forwarded-Host}
   * or {@code Forwarded: host=} names; else (or when those name none) {@link #authority}.
   */
  static HostAndPort clientHost(HttpServerRequest req, boolean fromTrustedProxy) {
    if (!fromTrustedProxy) {
      return authority(req);
    }
    MultiMap headers = req.headers();
    return host(req, first(headers.get(X_FORWARDED_HOST)), param(headers.get(FORWARDED), "host"));
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
