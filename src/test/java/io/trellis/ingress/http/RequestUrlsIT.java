package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.testing.RawHttp;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link RequestUrls} on real Vert.x servers, over raw sockets: each form of host gives its URL,
 * whether the server's event loop saw that host last (its kept prefix) or not, and a host without a
 * port never gets the {@code :-1} that Vert.x's own {@code absoluteURI()} adds. One server takes
 * its peer for a client, the other for a trusted proxy, whose scheme, host, port and prefix headers
 * name the client's.
 */
class RequestUrlsIT {
  static Vertx vertx;
  static HttpServer server;
  static HttpServer behindProxy;
  static final RequestUrls urls = new RequestUrls();
  static final RequestUrls proxiedUrls = new RequestUrls();

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    server =
        vertx
            .createHttpServer(new HttpServerOptions().setHttp2ClearTextEnabled(true))
            .requestHandler(req -> req.response().end(urls.of(req, false)))
            .listen(0, "127.0.0.1")
            .await(10, TimeUnit.SECONDS);
    behindProxy =
        vertx
            .createHttpServer()
            .requestHandler(req -> req.response().end(proxiedUrls.of(req, true)))
            .listen(0, "127.0.0.1")
            .await(10, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close().await(10, TimeUnit.SECONDS);
    behindProxy.close().await(10, TimeUnit.SECONDS);
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void eachFormOfHostGivesItsUrlWhetherSeenBeforeOrNot() {
    int port = server.actualPort();
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put(
        "GET /events?x=1 HTTP/1.1\r\nHost: shop.example", "http://shop.example/events?x=1");
    expected.put(
        "GET /pixel?dl=https%3A%2F%2Fa.example%2F&e=pv HTTP/1.1\r\nHost: shop.example",
        "http://shop.example/pixel?dl=https%3A%2F%2Fa.example%2F&e=pv");
    expected.put("GET /events HTTP/1.1\r\nHost: shop.example:80", "http://shop.example/events");
    expected.put(
        "GET /events HTTP/1.1\r\nHost: shop.example:443", "http://shop.example:443/events");
    expected.put(
        "GET /events HTTP/1.1\r\nHost: shop.example:8080", "http://shop.example:8080/events");
    expected.put("GET /events HTTP/1.1\r\nHost: Shop.EXAMPLE", "http://Shop.EXAMPLE/events");
    expected.put("GET /events HTTP/1.1\r\nHost: shop.example:", "http://shop.example/events");
    expected.put("GET /events HTTP/1.1\r\nHost: shop.example:0", "http://shop.example/events");
    expected.put(
        "GET /events HTTP/1.1\r\nHost: 127.0.0.1:" + port, "http://127.0.0.1:" + port + "/events");
    expected.put("GET /events HTTP/1.1\r\nHost: [::1]:8080", "http://[::1]:8080/events");
    expected.put("GET /events HTTP/1.1\r\nHost: [::1]", "http://[::1]/events");
    expected.put(
        "GET /p/%C3%A9?q=%E2%82%AC HTTP/1.1\r\nHost: shop.example",
        "http://shop.example/p/%C3%A9?q=%E2%82%AC");
    expected.put(
        "GET http://other.example/x?y=1 HTTP/1.1\r\nHost: shop.example",
        "http://other.example/x?y=1");
    expected.put(
        "GET https://other.example/x HTTP/1.1\r\nHost: shop.example", "https://other.example/x");
    expected.put(
        "GET http://user:secret@other.example:81/x?y=a@b HTTP/1.1\r\nHost: shop.example",
        "http://other.example:81/x?y=a@b");
    expected.put(
        "GET http://a@b:c@other.example HTTP/1.1\r\nHost: shop.example", "http://other.example");
    expected.put("OPTIONS * HTTP/1.1\r\nHost: shop.example", "*");
    expected.put("GET /events HTTP/1.1\r\nHost: ", "http://127.0.0.1:" + port + "/events");
    expected.put("GET /events HTTP/1.0", "http://127.0.0.1:" + port + "/events");
    expected.put("GET /events HTTP/1.0\r\nHost: shop.example", "http://shop.example/events");
    // Hosts the URI syntax allows and Vert.x 5.0's parser throws on: the address reached.
    expected.put("GET /events HTTP/1.1\r\nHost: a%41", "http://127.0.0.1:" + port + "/events");
    expected.put("GET /events HTTP/1.1\r\nHost: %41:81", "http://127.0.0.1:" + port + "/events");
    // A peer that is not a trusted proxy names no scheme or host but its own.
    expected.put(
        "GET /events HTTP/1.1\r\nHost: shop.example\r\nX-Forwarded-Proto: https\r\n"
            + "X-Forwarded-Host: other.example\r\nForwarded: proto=https;host=other.example",
        "http://shop.example/events");
    assertEachTwiceInARow(port, expected);
  }

  @Test
  void aTrustedProxyNamesTheSchemeAndHostTheClientUsed() {
    int port = behindProxy.actualPort();
    String get = "GET /events?x=1 HTTP/1.1\r\nHost: ";
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put(get + "shop.example", "http://shop.example/events?x=1");
    expected.put(
        get + "shop.example\r\nX-Forwarded-Proto: https", "https://shop.example/events?x=1");
    expected.put(
        get + "shop.example:443\r\nX-Forwarded-Proto: https", "https://shop.example/events?x=1");
    expected.put(
        get + "shop.example:80\r\nX-Forwarded-Proto: https", "https://shop.example:80/events?x=1");
    expected.put(
        get + "shop.example\r\nX-Forwarded-Proto: HTTPS", "https://shop.example/events?x=1");
    expected.put(
        get + "shop.example\r\nX-Forwarded-Proto: https, http", "https://shop.example/events?x=1");
    expected.put(get + "shop.example\r\nX-Forwarded-Proto: http", "http://shop.example/events?x=1");
    expected.put(get + "shop.example\r\nX-Forwarded-Proto: ftp", "http://shop.example/events?x=1");
    expected.put(get + "shop.example\r\nX-Forwarded-Proto: ", "http://shop.example/events?x=1");
    expected.put(
        get + "10.0.0.7:8080\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: shop.example",
        "https://shop.example/events?x=1");
    expected.put(
        get + "10.0.0.7:8080\r\nX-Forwarded-Host: shop.example:8443, 10.0.0.7",
        "http://shop.example:8443/events?x=1");
    expected.put(
        get + "10.0.0.7:8080\r\nX-Forwarded-Host: not a/host", "http://10.0.0.7:8080/events?x=1");
    expected.put(
        get + "10.0.0.7:8080\r\nX-Forwarded-Host: a%41", "http://10.0.0.7:8080/events?x=1");
    expected.put(
        get + "10.0.0.7:8080\r\nForwarded: for=192.0.2.60;proto=https;host=\"shop.example\"",
        "https://shop.example/events?x=1");
    expected.put(
        get + "10.0.0.7:8080\r\nForwarded: Proto=HTTPS;Host=shop.example:8443, proto=http",
        "https://shop.example:8443/events?x=1");
    expected.put(
        get + "shop.example\r\nX-Forwarded-Proto: http\r\nForwarded: proto=https",
        "http://shop.example/events?x=1");
    expected.put(
        get + "10.0.0.7:8080\r\nForwarded: for=192.0.2.61;proto=https;host=shop.example",
        "https://shop.example/events?x=1");
    expected.put(
        get + "10.0.0.7:8080\r\nForwarded: for=192.0.2.61;proto=https;host=other.example",
        "https://other.example/events?x=1");
    expected.put(
        "GET /events HTTP/1.0\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: shop.example",
        "https://shop.example/events");
    expected.put(
        "GET http://other.example/x HTTP/1.1\r\nHost: shop.example\r\nX-Forwarded-Proto: https",
        "http://other.example/x");
    assertEachTwiceInARow(port, expected);
  }

  @Test
  void aTrustedProxyNamesThePortAndThePathItServesTheServiceUnder() {
    int port = behindProxy.actualPort();
    String get = "GET /events?x=1 HTTP/1.1\r\nHost: 10.0.0.7:8080\r\nX-Forwarded-Host: ";
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put(
        get + "shop.example\r\nX-Forwarded-Port: 8443\r\nX-Forwarded-Proto: https",
        "https://shop.example:8443/events?x=1");
    // The port replaces the one the host names; the scheme's own is left out.
    expected.put(
        get + "shop.example:9000\r\nX-Forwarded-Port: 443\r\nX-Forwarded-Proto: https",
        "https://shop.example/events?x=1");
    expected.put(
        get + "shop.example\r\nX-Forwarded-Port: 8443, 8080",
        "http://shop.example:8443/events?x=1");
    expected.put(
        "GET /events HTTP/1.1\r\nHost: shop.example\r\nX-Forwarded-Port: 8443",
        "http://shop.example:8443/events");
    for (String notAPort : new String[] {"0", "65536", "-1", "84a3", "123456", ""}) {
      expected.put(
          get + "shop.example\r\nX-Forwarded-Port: " + notAPort, "http://shop.example/events?x=1");
    }
    expected.put(
        get + "shop.example\r\nX-Forwarded-Prefix: /ingest",
        "http://shop.example/ingest/events?x=1");
    expected.put(
        get + "shop.example\r\nX-Forwarded-Prefix: /ingest/",
        "http://shop.example/ingest/events?x=1");
    expected.put(
        get + "shop.example\r\nX-Forwarded-Prefix: /a/b%20c/, /v2",
        "http://shop.example/a/b%20c/v2/events?x=1");
    expected.put(get + "shop.example\r\nX-Forwarded-Prefix: /", "http://shop.example/events?x=1");
    for (String notAPath :
        new String[] {"ingest", "/in gest", "/a?b", "/a#b", "/a/%zz", "/a, b", "//x\"", ""}) {
      expected.put(
          get + "shop.example\r\nX-Forwarded-Prefix: " + notAPath,
          "http://shop.example/events?x=1");
    }
    expected.put(
        get
            + "shop.example\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Port: 8443\r\n"
            + "X-Forwarded-Prefix: /collect",
        "https://shop.example:8443/collect/events?x=1");
    assertEachTwiceInARow(port, expected);

    // From a peer that is not trusted, the port and prefix change nothing.
    assertEachTwiceInARow(
        server.actualPort(),
        Map.of(
            "GET /events HTTP/1.1\r\nHost: shop.example\r\nX-Forwarded-Port: 8443\r\n"
                + "X-Forwarded-Prefix: /ingest",
            "http://shop.example/events"));
  }

  /*
   * Twice over, each request twice in a row, each on a new connection: each host is met new and
   * again, after another host and after itself.
   */
  private static void assertEachTwiceInARow(int port, Map<String, String> expected) {
    for (int round = 0; round < 2; round++) {
      for (Map.Entry<String, String> e : expected.entrySet()) {
        for (int i = 0; i < 2; i++) {
          String response = RawHttp.exchange(port, e.getKey() + "\r\nConnection: close\r\n\r\n");
          assertThat(RawHttp.status(response)).as(e.getKey()).isEqualTo(200);
          assertThat(RawHttp.body(response)).as(e.getKey()).isEqualTo(e.getValue());
        }
      }
    }
  }

  @Test
  void aKeptAliveConnectionThatChangesItsHostGetsTheNewHost() {
    int port = server.actualPort();
    StringBuilder pipelined = new StringBuilder();
    for (String host : List.of("a.example", "a.example", "b.example:81", "a.example")) {
      pipelined.append("GET /x HTTP/1.1\r\nHost: ").append(host).append("\r\n\r\n");
    }
    pipelined.append("GET /x HTTP/1.1\r\nHost: c.example\r\nConnection: close\r\n\r\n");
    String all = RawHttp.exchange(port, pipelined.toString());
    List<String> bodies = new ArrayList<>();
    for (String part : all.split("HTTP/1\\.1 ")) {
      if (!part.isEmpty()) {
        bodies.add(RawHttp.body("HTTP/1.1 " + part));
      }
    }
    assertThat(bodies)
        .containsExactly(
            "http://a.example/x",
            "http://a.example/x",
            "http://b.example:81/x",
            "http://a.example/x",
            "http://c.example/x");
  }
}
