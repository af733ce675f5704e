package io.trellis.ingress.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.testing.RunningService;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every extraction rule, observed in what the service stores. */
class ExtractionIT {
  @TempDir static Path dir;
  static RunningService service;
  static String key;

  @BeforeAll
  static void start() {
    service = RunningService.start(dir);
    key = service.createKey("acme");
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  static JsonNode postEvent(String path, String json) {
    HttpResponse<String> res = service.postJson(path, key, json);
    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    return service.awaitEvent(RunningService.json(res.body()).path("event_id").asText());
  }

  static JsonNode track(String query) {
    HttpResponse<String> res = service.get("/track?" + query + "&api_key=" + key);
    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    return service.awaitEvent(RunningService.json(res.body()).path("event_id").asText());
  }

  @Test
  void everyColumnIsFilled() {
    long before = System.currentTimeMillis();
    HttpResponse<String> res =
        service.send(
            HttpRequest.newBuilder(service.uri("/events?utm_medium=cpc&x=1&x=2"))
                .header("Authorization", "Bearer " + key)
                .header("User-Agent", "Mozilla/5.0 test")
                .header("Referer", "https://shop.example/cart")
                .header("X-Custom", "Value")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"event\":\"purchase\",\"gclid\":\"G1\",\"session_id\":\"S1\","
                            + "\"utm_source\":\"google\",\"campaign\":\"winter\"}")));
    JsonNode e = service.awaitEvent(RunningService.json(res.body()).path("event_id").asText());

    assertThat(e.path("organization_id").asText()).isEqualTo("acme");
    assertThat(Instant.parse(e.path("timestamp").asText()).toEpochMilli())
        .isBetween(before, System.currentTimeMillis());
    assertThat(e.path("method").asText()).isEqualTo("POST");
    assertThat(e.path("url").asText())
        .isEqualTo("http://127.0.0.1:" + service.port() + "/events?utm_medium=cpc&x=1&x=2");
    assertThat(e.path("headers").path("x-custom").asText()).isEqualTo("Value");
    assertThat(e.path("headers").path("user-agent").asText()).isEqualTo("Mozilla/5.0 test");
    assertThat(e.path("query_params").path("utm_medium").asText()).isEqualTo("cpc");
    assertThat(e.path("query_params").path("x").toString()).isEqualTo("[\"1\",\"2\"]");
    assertThat(e.path("body").asText()).contains("\"gclid\":\"G1\"");
    assertThat(e.path("ip").asText()).isEqualTo("127.0.0.1");
    assertThat(e.path("user_agent").asText()).isEqualTo("Mozilla/5.0 test");
    assertThat(e.path("referer").asText()).isEqualTo("https://shop.example/cart");
    assertThat(e.path("event_type").asText()).isEqualTo("purchase");
    assertThat(e.path("click_id").asText()).isEqualTo("G1");
    assertThat(e.path("session_id").asText()).isEqualTo("S1");
    assertThat(e.path("source").asText()).isEqualTo("google");
    assertThat(e.path("medium").asText()).isEqualTo("cpc");
    assertThat(e.path("campaign").asText()).isEqualTo("winter");
    assertThat(Instant.parse(e.path("ingested_at").asText())).isNotNull();
  }

  @Test
  void eventTypeComesFromBodyThenQueryThenTheEndpointDefault() {
    assertThat(
            postEvent("/events", "{\"event_type\":\"a\",\"event\":\"b\"}")
                .path("event_type")
                .asText())
        .isEqualTo("a");
    assertThat(postEvent("/events", "{\"event\":\"b\",\"type\":\"c\"}").path("event_type").asText())
        .isEqualTo("b");
    assertThat(postEvent("/events", "{\"type\":\"c\"}").path("event_type").asText()).isEqualTo("c");
    assertThat(postEvent("/events?event=q", "{}").path("event_type").asText()).isEqualTo("q");
    assertThat(postEvent("/events", "{}").path("event_type").asText()).isEqualTo("event");
    assertThat(track("event_type=t1&event=t2").path("event_type").asText()).isEqualTo("t1");
    assertThat(track("page=/x").path("event_type").asText()).isEqualTo("track");
  }

  @Test
  void clickIdPrefersTheGenericNameThenPlatformIdsFromBodyQueryAndPageUrl() {
    assertThat(
            postEvent("/events", "{\"click_id\":\"C\",\"gclid\":\"G\"}").path("click_id").asText())
        .isEqualTo("C");
    assertThat(postEvent("/events", "{\"clickid\":\"C2\"}").path("click_id").asText())
        .isEqualTo("C2");
    assertThat(postEvent("/events?fbclid=F", "{}").path("click_id").asText()).isEqualTo("F");
    assertThat(postEvent("/events?msclkid=Q", "{\"ttclid\":\"T\"}").path("click_id").asText())
        .isEqualTo("T");
    assertThat(
            postEvent(
                    "/events", "{\"page_url\":\"https://s.example/p?utm_source=fb&li_fat_id=L#x\"}")
                .path("click_id")
                .asText())
        .isEqualTo("L");
    assertThat(
            postEvent("/events", "{\"url\":\"https://s.example/?wbraid=W\"}")
                .path("click_id")
                .asText())
        .isEqualTo("W");
    assertThat(track("gbraid=GB").path("click_id").asText()).isEqualTo("GB");
    assertThat(postEvent("/events", "{\"nothing\":1}").path("click_id").asText()).isEmpty();
  }

  @Test
  void sessionIdComesFromBodyQueryOrHeader() {
    assertThat(postEvent("/events", "{\"sessionId\":\"s-camel\"}").path("session_id").asText())
        .isEqualTo("s-camel");
    assertThat(postEvent("/events", "{\"sid\":\"s-short\"}").path("session_id").asText())
        .isEqualTo("s-short");
    assertThat(track("session_id=s-query").path("session_id").asText()).isEqualTo("s-query");
    HttpResponse<String> res =
        service.send(
            HttpRequest.newBuilder(service.uri("/events"))
                .header("Authorization", "Bearer " + key)
                .header("X-Session-Id", "s-header")
                .POST(HttpRequest.BodyPublishers.ofString("{}")));
    assertThat(
            service
                .awaitEvent(RunningService.json(res.body()).path("event_id").asText())
                .path("session_id")
                .asText())
        .isEqualTo("s-header");
  }

  @Test
  void utmFieldsComeFromBodyQueryAndPageUrl() {
    JsonNode plain = track("source=google&medium=cpc&campaign=spring");
    assertThat(plain.path("source").asText()).isEqualTo("google");
    assertThat(plain.path("medium").asText()).isEqualTo("cpc");
    assertThat(plain.path("campaign").asText()).isEqualTo("spring");

    JsonNode utm = track("utm_source=bing&utm_medium=email&utm_campaign=fall&source=ignored");
    assertThat(utm.path("source").asText()).isEqualTo("bing");

    JsonNode page =
        postEvent(
            "/events",
            "{\"page\":\"https://s.example/l?utm_source=news&utm_medium=mail&utm_campaign=c%201\"}");
    assertThat(page.path("source").asText()).isEqualTo("news");
    assertThat(page.path("medium").asText()).isEqualTo("mail");
    assertThat(page.path("campaign").asText()).isEqualTo("c 1");
  }

  @Test
  void clientEventIdIsKeptWhenItIsAUuidElseOneIsGenerated() {
    String mine = "3F2504E0-4F89-41D3-9A0C-0305E82C3301";
    assertThat(postEvent("/events", "{\"event_id\":\"" + mine + "\"}").path("event_id").asText())
        .isEqualTo(mine.toLowerCase());
    String generated =
        postEvent("/events", "{\"event_id\":\"not-a-uuid\"}").path("event_id").asText();
    assertThat(java.util.UUID.fromString(generated).version()).isEqualTo(7);
  }

  @Test
  void aBodyThatIsNotJsonIsStoredAsReceived() {
    String raw = "name=alice&plan=pro\u00e9 <not json>";
    HttpResponse<String> res =
        service.send(
            HttpRequest.newBuilder(service.uri("/events"))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "text/plain; charset=utf-8")
                .POST(HttpRequest.BodyPublishers.ofString(raw)));

    assertThat(res.statusCode()).isEqualTo(200);
    JsonNode e = service.awaitEvent(RunningService.json(res.body()).path("event_id").asText());
    assertThat(e.path("body").asText()).isEqualTo(raw);
    assertThat(e.path("event_type").asText()).isEqualTo("event");
  }

  @Test
  void theOrganizationComesFromTheKeyOnly() {
    HttpResponse<String> res =
        service.send(
            HttpRequest.newBuilder(service.uri("/events?organization_id=evil&org=evil"))
                .header("Authorization", "Bearer " + key)
                .header("X-Organization-Id", "evil")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"organization_id\":\"evil\",\"organizationId\":\"evil\"}")));
    JsonNode e = service.awaitEvent(RunningService.json(res.body()).path("event_id").asText());
    assertThat(e.path("organization_id").asText()).isEqualTo("acme");

    HttpResponse<String> batch =
        service.postJson("/batch", key, "[{\"organization_id\":\"evil\"},{\"org\":\"evil\"}]");
    for (JsonNode id : RunningService.json(batch.body()).path("event_ids")) {
      assertThat(service.awaitEvent(id.asText()).path("organization_id").asText())
          .isEqualTo("acme");
    }
  }

  @Test
  void forwardedHeadersAreIgnoredFromUntrustedPeers() {
    HttpResponse<String> res =
        postEvent(
            service,
            key,
            "X-Forwarded-For",
            "203.0.113.9",
            "X-Real-IP",
            "203.0.113.10",
            "X-Forwarded-Proto",
            "https",
            "X-Forwarded-Host",
            "shop.example",
            "X-Forwarded-Port",
            "8443",
            "X-Forwarded-Prefix",
            "/collect");
    JsonNode e = service.awaitEvent(RunningService.json(res.body()).path("event_id").asText());
    assertThat(e.path("ip").asText()).isEqualTo("127.0.0.1");
    assertThat(e.path("url").asText()).isEqualTo("http://127.0.0.1:" + service.port() + "/events");
    assertThat(e.path("headers").path("x-forwarded-for").asText()).isEqualTo("203.0.113.9");
    assertThat(e.path("headers").path("x-forwarded-proto").asText()).isEqualTo("https");
  }

  @Test
  void forwardedHeadersAreBelievedFromTrustedProxies(@org.junit.jupiter.api.io.TempDir Path other)
      throws Exception {
    try (RunningService proxied =
        RunningService.start(other, Map.of("capture.trusted-proxies", "127.0.0.0/8, ::1"))) {
      String k = proxied.createKey("acme");
      HttpResponse<String> xff =
          postEvent(
              proxied,
              k,
              "X-Forwarded-For",
              "198.51.100.7, 127.0.0.5",
              "X-Forwarded-Proto",
              "https",
              "X-Forwarded-Host",
              "shop.example");
      HttpResponse<String> fwd =
          postEvent(proxied, k, "Forwarded", "for=\"[2001:db8::1]:4711\";proto=https");
      HttpResponse<String> real = postEvent(proxied, k, "X-Real-IP", "192.0.2.44");

      assertThat(ip(proxied, xff)).isEqualTo("198.51.100.7");
      assertThat(ip(proxied, fwd)).isEqualTo("2001:db8::1");
      assertThat(ip(proxied, real)).isEqualTo("192.0.2.44");
      // Hops with ports and brackets, as some load balancers write them.
      for (Map.Entry<String, String> hop :
          Map.of(
                  "203.0.113.5:54321", "203.0.113.5",
                  "[2001:db8::7]:443, 127.0.0.9:80", "2001:db8::7",
                  "\"[2001:db8::8]\"", "2001:db8::8",
                  "2001:db8::9", "2001:db8::9",
                  "not-an-address:80", "127.0.0.1")
              .entrySet()) {
        HttpResponse<String> res = postEvent(proxied, k, "X-Forwarded-For", hop.getKey());
        assertThat(ip(proxied, res)).as(hop.getKey()).isEqualTo(hop.getValue());
      }
      HttpResponse<String> realWithPort = postEvent(proxied, k, "X-Real-IP", "192.0.2.45:1234");
      assertThat(ip(proxied, realWithPort)).isEqualTo("192.0.2.45");
      // The URL the client used: the proxy's scheme and host, else the request's own.
      String own = "127.0.0.1:" + proxied.port();
      assertThat(stored(proxied, xff, "url")).isEqualTo("https://shop.example/events");
      assertThat(stored(proxied, fwd, "url")).isEqualTo("https://" + own + "/events");
      assertThat(stored(proxied, real, "url")).isEqualTo("http://" + own + "/events");
      HttpResponse<String> underAPath =
          postEvent(
              proxied,
              k,
              "X-Forwarded-Proto",
              "https",
              "X-Forwarded-Host",
              "shop.example",
              "X-Forwarded-Port",
              "8443",
              "X-Forwarded-Prefix",
              "/collect");
      assertThat(stored(proxied, underAPath, "url"))
          .isEqualTo("https://shop.example:8443/collect/events");
    }
  }

  /** A POST of {@code {}} to /events with the key and the given header names and values. */
  private static HttpResponse<String> postEvent(RunningService s, String key, String... headers) {
    HttpRequest.Builder req =
        HttpRequest.newBuilder(s.uri("/events")).header("Authorization", "Bearer " + key);
    for (int i = 0; i < headers.length; i += 2) {
      req.header(headers[i], headers[i + 1]);
    }
    return s.send(req.POST(HttpRequest.BodyPublishers.ofString("{}")));
  }

  private static String ip(RunningService s, HttpResponse<String> res) {
    return stored(s, res, "ip");
  }

  private static String stored(RunningService s, HttpResponse<String> res, String column) {
    return s.awaitEvent(RunningService.json(res.body()).path("event_id").asText())
        .path(column)
        .asText();
  }
}
