package io.trellis.ingress.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.SocketAddress;

/**
 * A request's absolute URL, the stored {@code url} of every event: the scheme, the host the client
 * named ({@code Host}, or HTTP/2's {@code :authority}) with its port unless it is the scheme's
 * default, then the path and query as sent. A request in absolute form ({@code GET http://...}) is
 * its URI; one without a host (HTTP/1.0, an empty {@code Host}) gets the address it reached.
 *
 * <p>Not {@link HttpServerRequest#absoluteURI()}: for a host without a port, Vert.x 5.0 writes
 * {@code :-1} after it ({@code http://shop.example:-1/events}), and it builds the URL anew for each
 * request (a look for a TLS handler in the connection's pipeline, a parse of the host, a join),
 * which costs about as much as reading the event's JSON. The part before the path depends only on
 * the {@code Host} header and the server's scheme, and nearly every request an event loop reads
 * names the same host: each event loop keeps the last {@code Host} it saw and the prefix made of
 * it, and a request in origin form ({@code /path?query}) with that host is that prefix and its URI.
 *
 * <p>One instance per server (its handler's), as the prefix holds the server's scheme; used by the
 * server's event loops, each with its own last host.
 */
final class RequestUrls {
  private final ThreadLocal<Last> last = ThreadLocal.withInitial(Last::new);

  private static final class Last {
    private String host;
    private String prefix;
  }

  /** The request's absolute URL; its URI alone for the {@code *} form. */
  String of(HttpServerRequest req) {
    String uri = req.uri();
    if (uri.isEmpty() || uri.charAt(0) != '/') {
      return orUri(req.absoluteURI(), uri);
    }
    String host = req.version() == HttpVersion.HTTP_2 ? null : req.headers().get(HttpHeaders.HOST);
    if (host == null) {
      return prefix(req).concat(uri);
    }
    Last seen = last.get();
    if (!host.equals(seen.host)) {
      seen.prefix = prefix(req);
      seen.host = host;
    }
    return seen.prefix.concat(uri);
  }

  /** The URL's part before the path: the host the request names, else the address it reached. */
  private static String prefix(HttpServerRequest req) {
    HostAndPort authority = authority(req);
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
    return origin(req.scheme(), authority);
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

  /** {@code scheme://host}, and {@code :port} when the host names one other than the default. */
  private static String origin(String scheme, HostAndPort authority) {
    int port = authority.port();
    int defaultPort = "https".equals(scheme) ? 443 : 80;
    String origin = scheme + "://" + authority.host();
    return port > 0 && port != defaultPort ? origin + ":" + port : origin;
  }

  private static String orUri(String url, String uri) {
    return url != null ? url : uri;
  }
}
