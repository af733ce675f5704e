package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.testing.RawHttp;
import io.trellis.ingress.testing.RunningService;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.HostAndPort;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One case per kind of hostile or unusual input. Each asserts the status and JSON error, and after
 * each case the service must still answer and every event it acknowledged so far must be stored.
 */
class HostileInputIT {
  static final int BODY_MAX = 64 * 1024;
  static final int HEADER_MAX = 16 * 1024;
  static final int URL_MAX = 4096;

  @TempDir static Path dir;
  static RunningService service;
  static String key;
  static final Set<String> acknowledged = ConcurrentHashMap.newKeySet();

  @BeforeAll
  static void start() {
    service =
        RunningService.start(
            dir,
            Map.of(
                "limits.body-max", "64KiB",
                "limits.batch-body-max", "256KiB",
                "limits.header-max", "16KiB",
                "limits.url-max", "4KiB",
                "limits.header-count-max", "100",
                "limits.params-max", "500",
                "limits.json-depth-max", "32",
                "limits.request-timeout", "2s"));
    key = service.createKey("acme");
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  /** The service still answers, and nothing it acknowledged is missing. */
  @AfterEach
  void serviceIsUpAndLostNothing() {
    ack(post("/events", "application/json", "{\"event\":\"alive\"}".getBytes()));
    service.awaitStored(
        es -> {
          Set<String> ids = new java.util.HashSet<>();
          es.forEach(e -> ids.add(e.path("event_id").asText()));
          return ids.containsAll(acknowledged);
        });
  }

  static HttpResponse<String> post(String path, String contentType, byte[] body, String... h) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(service.uri(path))
            .header("Authorization", "Bearer " + key)
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    for (int i = 0; i < h.length; i += 2) {
      b.header(h[i], h[i + 1]);
    }
    return service.send(b);
  }

  /** Records an acknowledged event; returns its id. */
  static String ack(HttpResponse<String> res) {
    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    String id = RunningService.json(res.body()).path("event_id").asText();
    acknowledged.add(id);
    return id;
  }

  static void assertError(int status, String code, int actualStatus, String body) {
    assertThat(actualStatus).as(body).isEqualTo(status);
    JsonNode json = RunningService.json(body);
    assertThat(json.path("status").asText()).isEqualTo("error");
    assertThat(json.path("error").asText()).isEqualTo(code);
    assertThat(json.path("message").asText()).isNotBlank();
  }

  static void assertError(int status, String code, HttpResponse<String> res) {
    assertError(status, code, res.statusCode(), res.body());
  }

  static String rawRequest(String requestLineAndHeaders, String body) {
    return requestLineAndHeaders
        + "Authorization: Bearer "
        + key
        + "\r\nContent-Length: "
        + body.getBytes(StandardCharsets.UTF_8).length
        + "\r\nConnection: close\r\n\r\n"
        + body;
  }

  @Test
  void bodyAtTheLimitIsStoredAndOverItIs413() {
    String pad = "a".repeat(BODY_MAX - "{\"p\":\"\"}".length());
    String atLimit = "{\"p\":\"" + pad + "\"}";
    assertThat(atLimit).hasSize(BODY_MAX);

    String id = ack(post("/events", "application/json", atLimit.getBytes()));
    assertError(
        413, "payload_too_large", post("/events", "application/json", (atLimit + " ").getBytes()));
    assertThat(service.awaitEvent(id).path("body").asText()).hasSize(BODY_MAX);
  }

  /**
   * A client that sends its whole oversized body before reading gets the 413, not a reset: the
   * server reads and drops the rest before it closes.
   */
  @Test
  void clientStillSendingAnOversizedBodyReadsThe413() throws Exception {
    for (int round = 0; round < 5; round++) {
      byte[] body = new byte[BODY_MAX * 16];
      Arrays.fill(body, (byte) 'a');
      String head =
          "POST /events HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer "
              + key
              + "\r\nContent-Type: application/json\r\nContent-Length: "
              + body.length
              + "\r\n\r\n";
      try (Socket s = new Socket("127.0.0.1", service.port())) {
        s.setSoTimeout(20_000);
        OutputStream out = s.getOutputStream();
        out.write(head.getBytes(StandardCharsets.ISO_8859_1));
        for (int off = 0; off < body.length; off += 8192) {
          out.write(body, off, 8192);
        }
        out.flush();
        String answer = RawHttp.readUntilClosed(s.getInputStream());
        assertThat(RawHttp.status(answer)).as("round %d: %s", round, answer).isEqualTo(413);
        assertError(413, "payload_too_large", 413, RawHttp.body(answer));
      }
    }
  }

  @Test
  void headersAtTheLimitAreStoredAndOverItAre431() {
    String value = "v".repeat(HEADER_MAX - 1024);
    HttpResponse<String> ok = post("/events", "application/json", "{}".getBytes(), "X-Big", value);
    String id = ack(ok);
    assertThat(service.awaitEvent(id).path("headers").path("x-big").asText()).isEqualTo(value);

    String res =
        RawHttp.exchange(
            service.port(),
            rawRequest(
                "POST /events HTTP/1.1\r\nHost: x\r\nX-Big: "
                    + "v".repeat(HEADER_MAX + 10)
                    + "\r\n",
                "{}"));
    assertError(431, "headers_too_large", RawHttp.status(res), RawHttp.body(res));
  }

  @Test
  void gzipBombIsRefusedWithoutInflatingItAll() throws Exception {
    // 64 MiB of zeros compress to about 64 KiB; the last bytes are cut off, so only inflating
    // the whole body could notice that the data is truncated: a 413 proves inflation stopped.
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream z = new GZIPOutputStream(out)) {
      byte[] zeros = new byte[1 << 20];
      for (int i = 0; i < 64; i++) {
        z.write(zeros);
      }
    }
    byte[] bomb = Arrays.copyOf(out.toByteArray(), out.size() - 64);
    assertThat(bomb.length).isLessThan(BODY_MAX);

    HttpResponse<String> res =
        post("/events", "application/json", bomb, "Content-Encoding", "gzip");

    assertError(413, "payload_too_large", res);
    assertThat(RunningService.json(res.body()).path("message").asText()).contains("decompressed");
  }

  @Test
  void deeplyNestedJsonIs400AndNestingAtTheLimitIsStored() {
    String deep = "[".repeat(30_000) + "]".repeat(30_000);
    assertError(400, "json_too_deep", post("/events", "application/json", deep.getBytes()));
    assertError(400, "json_too_deep", post("/batch", "application/json", deep.getBytes()));
    assertError(
        400,
        "json_too_deep",
        post(
            "/events",
            "text/plain",
            ("{\"a\":" + "{\"b\":".repeat(40) + "1" + "}".repeat(41)).getBytes()));

    String atLimit = "{\"a\":" + "[".repeat(31) + "]".repeat(31) + "}";
    String id = ack(post("/events", "application/json", atLimit.getBytes()));
    assertThat(service.awaitEvent(id).path("body").asText()).isEqualTo(atLimit);
  }

  @Test
  void invalidUtf8IsStoredWithItsExactBytesAndAnInvalidDeclaredCharsetIs400() {
    byte[] body = {'{', '"', 'e', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
    String id = ack(post("/events", "application/json", body));
    JsonNode stored = service.awaitEvent(id);
    assertThat(stored.path("body").asText()).isEqualTo("{\"e\":\"\uFFFD(\"}");
    assertThat(Base64.getDecoder().decode(stored.path("body_base64").asText())).isEqualTo(body);

    assertError(400, "invalid_json", post("/batch", "application/json", new byte[] {(byte) 0xff}));
    assertError(
        400,
        "invalid_text",
        post("/events", "text/plain; charset=US-ASCII", new byte[] {'a', (byte) 0xff}));
  }

  @Test
  void nulBytesInTheBodyAreStoredExactlyAndInHeadersAre400() {
    String body = "{\"event\":\"nul\",\"v\":\"a\u0000b\"}\u0000";
    String id = ack(post("/events", "application/json", body.getBytes(StandardCharsets.UTF_8)));
    assertThat(service.awaitEvent(id).path("body").asText()).isEqualTo(body);

    String res =
        RawHttp.exchange(
            service.port(),
            rawRequest("POST /events HTTP/1.1\r\nHost: x\r\nX-Nul: a\u0000b\r\n", "{}"));
    assertError(400, "bad_request", RawHttp.status(res), RawHttp.body(res));
  }

  @Test
  void hugeNumbersAreStoredAsSentWithoutLosingDigits() {
    String digits = "9".repeat(5000);
    String body =
        "{\"event\":\"huge\",\"n\":"
            + digits
            + ",\"f\":1e999999999,\"g\":-0.0000000000000000000001}";
    String id = ack(post("/events", "application/json", body.getBytes()));
    assertThat(service.awaitEvent(id).path("body").asText()).isEqualTo(body);

    String batch = "[{\"event\":\"huge_item\",\"f\":1e999999999,\"i\":" + "1".repeat(900) + "}]";
    HttpResponse<String> res = post("/batch", "application/json", batch.getBytes());
    assertThat(res.statusCode()).isEqualTo(200);
    String itemId = RunningService.json(res.body()).path("event_ids").get(0).asText();
    acknowledged.add(itemId);
    assertThat(service.awaitEvent(itemId).path("body").asText()).contains("1".repeat(900));
  }

  @Test
  void duplicateKeysAreStoredAsSentAndTheLastOneIsExtracted() {
    String body =
        "{\"event\":\"first\",\"event\":\"last\",\"utm_source\":\"a\",\"utm_source\":\"b\"}";
    JsonNode e = service.awaitEvent(ack(post("/events", "application/json", body.getBytes())));

    assertThat(e.path("body").asText()).isEqualTo(body);
    assertThat(e.path("event_type").asText()).isEqualTo("last");
    assertThat(e.path("source").asText()).isEqualTo("b");
  }

  @Test
  void veryLongUrlIs414AndAUrlUnderTheLimitIsStored() {
    String longParam = "x".repeat(URL_MAX - 200);
    HttpResponse<String> ok =
        service.get("/track?event=long_url&p=" + longParam + "&api_key=" + key);
    String id = ack(ok);
    assertThat(service.awaitEvent(id).path("query_params").path("p").asText()).isEqualTo(longParam);

    String res =
        RawHttp.exchange(
            service.port(),
            "GET /track?p="
                + "x".repeat(URL_MAX + 10)
                + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertError(414, "uri_too_long", RawHttp.status(res), RawHttp.body(res));
  }

  @Test
  void veryLongHeaderValueIs431() {
    String res =
        RawHttp.exchange(
            service.port(),
            rawRequest(
                "POST /events HTTP/1.1\r\nHost: x\r\nCookie: " + "c=".repeat(20_000) + "\r\n",
                "{}"));
    assertError(431, "headers_too_large", RawHttp.status(res), RawHttp.body(res));
  }

  @Test
  void thousandsOfHeadersAre431AndUpToTheCountLimitAreStored() {
    StringBuilder many = new StringBuilder();
    for (int i = 0; i < 2000; i++) {
      many.append("X-H").append(i).append(": ").append(i).append("\r\n");
    }
    String res =
        RawHttp.exchange(
            service.port(), rawRequest("POST /events HTTP/1.1\r\nHost: x\r\n" + many, "{}"));
    assertThat(RawHttp.status(res)).isEqualTo(431);
    assertThat(RunningService.json(RawHttp.body(res)).path("error").asText())
        .isIn("too_many_headers", "headers_too_large");

    StringBuilder some = new StringBuilder();
    for (int i = 0; i < 90; i++) {
      some.append("X-H").append(i).append(": ").append(i).append("\r\n");
    }
    String okRes =
        RawHttp.exchange(
            service.port(),
            rawRequest(
                "POST /events HTTP/1.1\r\nHost: x\r\n" + some, "{\"event\":\"many_headers\"}"));
    assertThat(RawHttp.status(okRes)).isEqualTo(200);
    String id = RunningService.json(RawHttp.body(okRes)).path("event_id").asText();
    acknowledged.add(id);
    assertThat(service.awaitEvent(id).path("headers").path("x-h89").asText()).isEqualTo("89");

    StringBuilder over = new StringBuilder();
    for (int i = 0; i < 120; i++) {
      over.append("X-H").append(i).append(": ").append(i).append("\r\n");
    }
    String overRes =
        RawHttp.exchange(
            service.port(), rawRequest("POST /events HTTP/1.1\r\nHost: x\r\n" + over, "{}"));
    assertError(431, "too_many_headers", RawHttp.status(overRes), RawHttp.body(overRes));
  }

  @Test
  void thousandsOfQueryParametersAre400AndUpToTheLimitAreStored() {
    StringBuilder q = new StringBuilder("/track?api_key=" + key);
    for (int i = 0; i < 400; i++) {
      q.append("&p").append(i).append('=').append(i % 10);
    }
    String id = ack(service.get(q.toString()));
    assertThat(service.awaitEvent(id).path("query_params").path("p399").asText()).isEqualTo("9");

    StringBuilder tooMany = new StringBuilder("/track?api_key=" + key);
    for (int i = 0; i < 800; i++) {
      tooMany.append("&a=");
    }
    assertError(400, "too_many_parameters", service.get(tooMany.toString()));

    StringBuilder form = new StringBuilder("data={}");
    for (int i = 0; i < 600; i++) {
      form.append("&f").append(i).append("=x");
    }
    assertError(
        400,
        "too_many_parameters",
        post("/events", "application/x-www-form-urlencoded", form.toString().getBytes()));
  }

  @Test
  void slowBodyOneByteASecondIs408AndTheConnectionIsFreed() throws Exception {
    String marker = "slow-" + UUID.randomUUID();
    String body = "{\"event\":\"" + marker + "\"}";
    try (Socket s = new Socket("127.0.0.1", service.port())) {
      s.setSoTimeout(20_000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                  + key
                  + "\r\nContent-Length: "
                  + body.length()
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      InputStream in = s.getInputStream();
      String answer = null;
      for (int i = 0; i < body.length() && answer == null; i++) {
        try {
          out.write(body.charAt(i));
          out.flush();
        } catch (java.io.IOException closed) {
          break;
        }
        Thread.sleep(1000);
        if (in.available() > 0) {
          break;
        }
      }
      answer = RawHttp.readUntilClosed(in);
      assertError(408, "request_timeout", RawHttp.status(answer), RawHttp.body(answer));
    }
    assertThat(service.storedEvents()).noneMatch(e -> e.path("body").asText().contains(marker));
  }

  @Test
  void slowHeadersOneByteASecondGetTheConnectionClosed() throws Exception {
    String head = "POST /events HTTP/1.1\r\nHost: x\r\nX-Slow: " + "s".repeat(60);
    try (Socket s = new Socket("127.0.0.1", service.port())) {
      s.setSoTimeout(20_000);
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      boolean closed = false;
      for (int i = 0; i < head.length() && System.nanoTime() < deadline; i++) {
        try {
          out.write(head.charAt(i));
          out.flush();
        } catch (java.io.IOException e) {
          closed = true;
          break;
        }
        Thread.sleep(500);
        s.setSoTimeout(1);
        try {
          if (in.read() < 0) {
            closed = true;
            break;
          }
        } catch (java.net.SocketTimeoutException e) {
          // Still open.
        } catch (java.io.IOException e) {
          closed = true;
          break;
        } finally {
          s.setSoTimeout(20_000);
        }
      }
      assertThat(closed).as("the server closed the dribbling connection").isTrue();
    }
  }

  @Test
  void clientDisconnectingMidBodyStoresNothing() throws Exception {
    String marker = "cut-" + UUID.randomUUID();
    try (Socket s = new Socket("127.0.0.1", service.port())) {
      s.getOutputStream()
          .write(
              ("POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                      + key
                      + "\r\nContent-Length: 1000\r\n\r\n{\"event\":\""
                      + marker
                      + "\"")
                  .getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
    }
    String after = ack(post("/events", "application/json", "{\"event\":\"after_cut\"}".getBytes()));
    service.awaitEvent(after);
    assertThat(service.storedEvents()).noneMatch(e -> e.path("body").asText().contains(marker));
  }

  @Test
  void http10RequestIsAnsweredInHttp10AndStored() {
    String body = "{\"event\":\"http10\"}";
    String res =
        RawHttp.exchange(
            service.port(),
            "POST /events HTTP/1.0\r\nAuthorization: Bearer "
                + key
                + "\r\nContent-Length: "
                + body.length()
                + "\r\n\r\n"
                + body);
    assertThat(res).startsWith("HTTP/1.0 200");
    String id = RunningService.json(RawHttp.body(res)).path("event_id").asText();
    acknowledged.add(id);
    assertThat(service.awaitEvent(id).path("event_type").asText()).isEqualTo("http10");
  }

  @Test
  void aHostVertxCannotReadIsAnsweredAndTheUrlNamesTheAddressReached() {
    // The URI syntax allows a percent-encoded octet in a host name; Vert.x 5.0's parser throws on
    // one at the end of the name.
    for (String host : List.of("a%41", "%41", "a%41:8080")) {
      String body = "{\"event\":\"odd-host\"}";
      String res =
          RawHttp.exchange(
              service.port(),
              rawRequest("POST /events?h=1 HTTP/1.1\r\nHost: " + host + "\r\n", body));
      assertThat(RawHttp.status(res)).as(host).isEqualTo(200);
      String id = RunningService.json(RawHttp.body(res)).path("event_id").asText();
      acknowledged.add(id);
      JsonNode stored = service.awaitEvent(id);
      assertThat(stored.path("url").asText())
          .as(host)
          .isEqualTo("http://127.0.0.1:" + service.port() + "/events?h=1");
      assertThat(stored.path("headers").path("host").asText()).isEqualTo(host);

      String settings =
          RawHttp.exchange(
              service.port(),
              "GET /v1/projects/"
                  + key
                  + "/settings HTTP/1.1\r\nHost: "
                  + host
                  + "\r\nConnection: close\r\n\r\n");
      assertError(400, "bad_request", RawHttp.status(settings), RawHttp.body(settings));
    }
  }

  @Test
  void aRequestLineWithAnotherHttpVersionIs505WithAJsonError() {
    for (String version : List.of("HTTP/1.2", "HTTP/2.0", "HTTP/9.9", "FOO/1.1")) {
      String res =
          RawHttp.exchange(
              service.port(), rawRequest("POST /events " + version + "\r\nHost: x\r\n", "{}"));
      assertError(505, "http_version_not_supported", RawHttp.status(res), RawHttp.body(res));
    }
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrderAndAllStored() throws Exception {
    StringBuilder reqs = new StringBuilder();
    for (int i = 0; i < 3; i++) {
      String body = "{\"event\":\"pipe" + i + "\"}";
      reqs.append("POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ")
          .append(key)
          .append("\r\nContent-Length: ")
          .append(body.length())
          .append(i == 2 ? "\r\nConnection: close" : "")
          .append("\r\n\r\n")
          .append(body);
    }
    String res = RawHttp.exchange(service.port(), reqs.toString());

    String[] answers = res.split("HTTP/1.1 ");
    assertThat(answers).hasSize(4);
    for (int i = 1; i <= 3; i++) {
      assertThat(answers[i]).startsWith("200");
      String id =
          RunningService.json(RawHttp.body("HTTP/1.1 " + answers[i])).path("event_id").asText();
      acknowledged.add(id);
      assertThat(service.awaitEvent(id).path("event_type").asText()).isEqualTo("pipe" + (i - 1));
    }
  }

  @Test
  void twoHundredPipelinedRequestsInOneWriteAreAnsweredInOrder() throws Exception {
    // Events (answered once on disk) between unknown paths (answered at once): each request is
    // decoded only once the one before it is answered, from the bytes already received.
    StringBuilder reqs = new StringBuilder();
    for (int i = 0; i < 200; i++) {
      if (i % 2 == 1) {
        reqs.append("GET /nowhere/").append(i).append(" HTTP/1.1\r\nHost: x\r\n\r\n");
        continue;
      }
      String body = "{\"event\":\"ahead" + i + "\"}";
      reqs.append("POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ")
          .append(key)
          .append("\r\nContent-Length: ")
          .append(body.length())
          .append("\r\n\r\n")
          .append(body);
    }
    reqs.append("GET /nowhere/last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    String res = RawHttp.exchange(service.port(), reqs.toString());

    String[] answers = res.split("HTTP/1.1 ");
    assertThat(answers).hasSize(202);
    for (int i = 1; i <= 200; i++) {
      if (i % 2 == 0) {
        assertThat(answers[i]).startsWith("404");
        continue;
      }
      assertThat(answers[i]).startsWith("200");
      String id =
          RunningService.json(RawHttp.body("HTTP/1.1 " + answers[i])).path("event_id").asText();
      acknowledged.add(id);
      assertThat(service.awaitEvent(id).path("event_type").asText()).isEqualTo("ahead" + (i - 1));
    }
    assertThat(answers[201]).startsWith("404");
  }

  @Test
  void http2ClearTextWithPriorKnowledgeIsServed() throws Exception {
    Vertx vx = Vertx.vertx();
    try {
      String[] result = h2Send(h2PriorKnowledge(vx), postEvents(), "{\"event\":\"h2_prior\"}");

      assertThat(result[0]).isEqualTo("HTTP_2");
      assertThat(result[1]).isEqualTo("200");
      String id = RunningService.json(result[2]).path("event_id").asText();
      acknowledged.add(id);
      JsonNode e = service.awaitEvent(id);
      assertThat(e.path("event_type").asText()).isEqualTo("h2_prior");
      assertThat(e.path("headers").has("authorization")).isFalse();
    } finally {
      vx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void http2WithAnAuthorityVertxCannotReadResetsOnlyThatStream() throws Exception {
    // Vert.x 5.0 reads HTTP/2's :authority before any handler runs, and its parser throws on a
    // percent-encoded octet at the end of a host name: that stream is reset. The connection and
    // the service go on.
    Vertx vx = Vertx.vertx();
    try {
      HttpClientAgent client = h2PriorKnowledge(vx);
      RequestOptions post = postEvents();
      Throwable refused =
          client
              .request(post)
              .compose(
                  req ->
                      req.authority(HostAndPort.create("a%41", -1))
                          .send("{\"event\":\"h2_odd_authority\"}"))
              .toCompletionStage()
              .toCompletableFuture()
              .handle((resp, err) -> err)
              .get(20, TimeUnit.SECONDS);
      while (refused != null && refused.getCause() != null) {
        refused = refused.getCause();
      }
      assertThat(refused).isInstanceOf(io.vertx.core.http.HttpClosedException.class);

      String[] next = h2Send(client, post, "{\"event\":\"h2_after_reset\"}");
      assertThat(next[1]).as(next[2]).isEqualTo("200");
      String id = RunningService.json(next[2]).path("event_id").asText();
      acknowledged.add(id);
      assertThat(service.awaitEvent(id).path("event_type").asText()).isEqualTo("h2_after_reset");
    } finally {
      vx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** A Vert.x client speaking HTTP/2 over clear text from the first byte (prior knowledge). */
  private static HttpClientAgent h2PriorKnowledge(Vertx vx) {
    return vx.createHttpClient(
        new HttpClientOptions()
            .setProtocolVersion(HttpVersion.HTTP_2)
            .setHttp2ClearTextUpgrade(false));
  }

  /** POST /events with the test key. */
  private static RequestOptions postEvents() {
    return new RequestOptions()
        .setMethod(HttpMethod.POST)
        .setHost("127.0.0.1")
        .setPort(service.port())
        .setURI("/events")
        .putHeader("Authorization", "Bearer " + key);
  }

  /** Sends {@code body}; the answer's protocol version, status and body. */
  private static String[] h2Send(HttpClientAgent client, RequestOptions post, String body)
      throws Exception {
    return client
        .request(post)
        .compose(
            req ->
                req.send(body)
                    .compose(
                        resp ->
                            resp.body()
                                .map(
                                    b ->
                                        new String[] {
                                          resp.version().name(),
                                          Integer.toString(resp.statusCode()),
                                          b.toString()
                                        })))
        .toCompletionStage()
        .toCompletableFuture()
        .get(20, TimeUnit.SECONDS);
  }

  @Test
  void http2ClearTextUpgradeIsServed() throws Exception {
    HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
    HttpResponse<String> res =
        h2.send(
            HttpRequest.newBuilder(service.uri("/track?event=h2_upgrade&api_key=" + key))
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(res.version()).isEqualTo(HttpClient.Version.HTTP_2);
    String id = ack(res);
    assertThat(service.awaitEvent(id).path("event_type").asText()).isEqualTo("h2_upgrade");
  }
}
