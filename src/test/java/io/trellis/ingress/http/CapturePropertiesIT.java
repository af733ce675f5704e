package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.testing.RawHttp;
import io.trellis.ingress.testing.RunningService;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.GZIPOutputStream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzzes the running service with random requests over a raw socket: random methods, paths, query
 * strings, headers, content types, encodings and bodies, with or without a valid key. Every answer
 * must be a defined status with a JSON body (or the GIF, or an empty preflight answer), and every
 * event acknowledged must be stored. Bounded by a fixed number of tries.
 */
class CapturePropertiesIT {
  // 429: random wrong keys from one address use up its failed-authentication budget.
  private static final Set<Integer> DEFINED =
      Set.of(200, 204, 302, 400, 401, 403, 404, 405, 408, 413, 414, 415, 429, 431);

  private static Path dir;
  private static RunningService service;
  private static String key;
  private static final Set<String> acknowledged = ConcurrentHashMap.newKeySet();

  @BeforeContainer
  static void start() throws Exception {
    dir = Files.createTempDirectory("capture-properties");
    service =
        RunningService.start(
            dir,
            Map.of(
                "limits.body-max", "8KiB",
                "limits.batch-body-max", "16KiB",
                "limits.url-max", "2KiB",
                "limits.header-max", "4KiB",
                "limits.request-timeout", "3s",
                "redirect.allowed-hosts", "shop.example"));
    key = service.createKey("fuzz");
  }

  @AfterContainer
  static void everythingAcknowledgedIsStoredAndTheServiceStillAnswers() throws Exception {
    try {
      // The fuzzed wrong keys may have used up this address's failed-authentication budget:
      // a client honours Retry-After, and so does this one.
      var res = service.postJson("/events", key, "{\"event\":\"alive\"}");
      for (int i = 0; i < 30 && res.statusCode() == 429; i++) {
        Thread.sleep(1000L * Long.parseLong(res.headers().firstValue("Retry-After").orElse("1")));
        res = service.postJson("/events", key, "{\"event\":\"alive\"}");
      }
      assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
      acknowledged.add(RunningService.json(res.body()).path("event_id").asText());
      service.awaitStored(
          es -> {
            Set<String> ids = new HashSet<>();
            es.forEach(e -> ids.add(e.path("event_id").asText()));
            return ids.containsAll(acknowledged);
          });
    } finally {
      service.close();
    }
  }

  record Req(String method, String path, String query, List<String> headers, byte[] body) {
    byte[] bytes() {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      String head =
          method
              + " "
              + path
              + (query.isEmpty() ? "" : "?" + query)
              + " HTTP/1.1\r\nHost: fuzz\r\n"
              + String.join("", headers)
              + "Content-Length: "
              + body.length
              + "\r\nConnection: close\r\n\r\n";
      out.writeBytes(head.getBytes(StandardCharsets.ISO_8859_1));
      out.writeBytes(body);
      return out.toByteArray();
    }
  }

  @Property(tries = 250)
  void everyRequestGetsADefinedAnswer(@ForAll("requests") Req req) {
    String res = RawHttp.exchange(service.port(), req.bytes());
    int status = RawHttp.status(res);

    assertThat(DEFINED).as(res).contains(status);
    String lower = res.toLowerCase(java.util.Locale.ROOT);
    if (lower.contains("content-type: image/gif")) {
      assertThat(status).isEqualTo(200);
      return;
    }
    if (status == 204 || req.method().equals("HEAD")) {
      return; // No body by definition.
    }
    JsonNode body = RunningService.json(RawHttp.body(res));
    if (status < 300 || status == 302) {
      assertThat(body.path("status").asText()).isEqualTo("ok");
      body.path("event_ids").forEach(id -> acknowledged.add(id.asText()));
      if (body.hasNonNull("event_id")) {
        acknowledged.add(body.path("event_id").asText());
      }
    } else {
      assertThat(body.path("status").asText()).isEqualTo("error");
      assertThat(body.path("error").asText()).isNotBlank();
    }
  }

  @Provide
  Arbitrary<Req> requests() {
    Arbitrary<String> method =
        Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(6, Arbitraries.just("POST")),
            net.jqwik.api.Tuple.of(3, Arbitraries.just("GET")),
            net.jqwik.api.Tuple.of(1, Arbitraries.of("OPTIONS", "PUT", "DELETE", "HEAD")));
    Arbitrary<String> path =
        Arbitraries.of(
            "/events",
            "/batch",
            "/pixel",
            "/track",
            "/r",
            "/v1/track",
            "/v1/batch",
            "/v1/t",
            "/v1/page",
            "/nope",
            "/events/",
            "//events");
    Arbitrary<String> token =
        Arbitraries.strings()
            .withCharRange('!', '~')
            .ofMaxLength(12)
            .map(s -> s.replace("&", "").replace("#", "").replace(" ", "").replace("%", "%25"));
    Arbitrary<String> query =
        Combinators.combine(
                Arbitraries.of(
                    "",
                    "api_key=KEY",
                    "writeKey=KEY",
                    "api_key=bogus",
                    "u=https%3A%2F%2Fshop.example%2F"),
                token.list().ofMaxSize(6))
            .as(
                (k, parts) -> {
                  StringBuilder q = new StringBuilder(k);
                  for (int i = 0; i < parts.size(); i++) {
                    q.append(q.length() > 0 ? "&" : "")
                        .append("p")
                        .append(i)
                        .append('=')
                        .append(parts.get(i));
                  }
                  return q.toString().replace("KEY", key);
                });
    Arbitrary<List<String>> headers =
        Combinators.combine(
                Arbitraries.of(
                    "",
                    "Authorization: Bearer KEY\r\n",
                    "Authorization: Basic "
                        + java.util.Base64.getEncoder().encodeToString((key + ":").getBytes())
                        + "\r\n",
                    "Authorization: Bearer trk_wrong\r\n",
                    "Authorization: Basic !!!\r\n"),
                Arbitraries.of(
                    "",
                    "Content-Type: application/json\r\n",
                    "Content-Type: text/plain;charset=UTF-8\r\n",
                    "Content-Type: application/x-www-form-urlencoded\r\n",
                    "Content-Type: text/plain; charset=latin1\r\n",
                    "Content-Type: application/json; charset=bogus\r\n"),
                Arbitraries.of(
                    "",
                    "Content-Encoding: gzip\r\n",
                    "Content-Encoding: deflate\r\n",
                    "Content-Encoding: br\r\n"),
                Arbitraries.of(
                    "",
                    "Origin: https://site.example\r\n",
                    "Access-Control-Request-Method: POST\r\nOrigin: https://x.example\r\n",
                    "Accept: image/*\r\n",
                    "X-Forwarded-For: 1.2.3.4, nonsense\r\n"))
            .as((a, b, c, d) -> List.of(a.replace("KEY", key), b, c, d));
    Arbitrary<byte[]> body =
        Arbitraries.oneOf(
            Arbitraries.bytes().array(byte[].class).ofMaxSize(300),
            Arbitraries.strings().ofMaxLength(200).map(s -> s.getBytes(StandardCharsets.UTF_8)),
            Arbitraries.strings()
                .ofMaxLength(60)
                .map(
                    s ->
                        ("{\"event\":"
                                + DecodingPropertiesTest.quote(s)
                                + ",\"writeKey\":\""
                                + key
                                + "\"}")
                            .getBytes(StandardCharsets.UTF_8)),
            Arbitraries.strings()
                .ofMaxLength(60)
                .map(
                    s ->
                        ("[{\"event\":" + DecodingPropertiesTest.quote(s) + "},1,{}]")
                            .getBytes(StandardCharsets.UTF_8)),
            Arbitraries.strings()
                .ofMaxLength(60)
                .map(s -> gzip(s.getBytes(StandardCharsets.UTF_8))),
            Arbitraries.integers().between(1, 60).map(n -> "[".repeat(n * 3).getBytes()),
            Arbitraries.strings()
                .ofMaxLength(40)
                .map(
                    s ->
                        ("data="
                                + java.net.URLEncoder.encode(
                                    "{\"e\":" + DecodingPropertiesTest.quote(s) + "}",
                                    StandardCharsets.UTF_8))
                            .getBytes()));
    return Combinators.combine(method, path, query, headers, body).as(Req::new);
  }

  private static byte[] gzip(byte[] data) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (GZIPOutputStream z = new GZIPOutputStream(out)) {
        z.write(data);
      }
      return out.toByteArray();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
