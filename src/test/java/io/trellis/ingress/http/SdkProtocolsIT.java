package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.testing.RunningService;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PostHog, Snowplow and Segment protocol forms the SDK tests do not reach with their default
 * settings: single PostHog events, base64 and gzip-js bodies, the key in a Snowplow path, and the
 * SDKs' configuration calls.
 */
class SdkProtocolsIT {
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

  private static HttpResponse<String> post(String path, String contentType, byte[] body) {
    return service.send(
        HttpRequest.newBuilder(service.uri(path))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void segmentPageCallYieldsTheClickIdOfItsPropertiesUrl() {
    String id = UUID.randomUUID().toString();
    HttpResponse<String> res =
        post(
            "/v1/p",
            "text/plain",
            utf8(
                "{\"type\":\"page\",\"writeKey\":\""
                    + key
                    + "\",\"messageId\":\""
                    + id
                    + "\",\"properties\":{\"url\":\"https://shop.example/pricing?gclid=G-PROP\"},"
                    + "\"context\":{\"page\":{\"url\":\"https://shop.example/\"}}}"));

    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    assertThat(service.awaitEvent(id).path("click_id").asText()).isEqualTo("G-PROP");
  }

  @Test
  void postHogSingleEventWithApiKeyIsStoredWithItsFields() {
    String id = UUID.randomUUID().toString();
    HttpResponse<String> res =
        post(
            "/capture/",
            "application/json",
            utf8(
                "{\"api_key\":\""
                    + key
                    + "\",\"event\":\"$pageview\",\"uuid\":\""
                    + id
                    + "\",\"distinct_id\":\"d1\",\"properties\":{\"$current_url\":"
                    + "\"https://shop.example/?utm_source=ph&msclkid=MS1\","
                    + "\"$session_id\":\"s-1\",\"$referrer\":\"https://search.example/\"}}"));

    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    JsonNode e = service.awaitEvent(id);
    assertThat(e.path("event_type").asText()).isEqualTo("$pageview");
    assertThat(e.path("click_id").asText()).isEqualTo("MS1");
    assertThat(e.path("source").asText()).isEqualTo("ph");
    assertThat(e.path("session_id").asText()).isEqualTo("s-1");
    assertThat(e.path("referer").asText()).isEqualTo("https://search.example/");
    assertThat(e.path("body").asText()).doesNotContain(key).contains("[redacted]");
  }

  @Test
  void postHogEventCarryingOnlyItsTokenIsAccepted() {
    String id = UUID.randomUUID().toString();
    HttpResponse<String> res =
        post(
            "/i/v0/e/",
            "text/plain",
            utf8(
                "{\"event\":\"signup\",\"uuid\":\""
                    + id
                    + "\",\"properties\":{\"token\":\""
                    + key
                    + "\",\"distinct_id\":\"d1\"}}"));

    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    assertThat(service.awaitEvent(id).path("body").asText()).doesNotContain(key);
  }

  @Test
  void onlyRelayKeysSetTheEventsClientIpAndUserAgentAndTheSocketAddressIsKept() {
    String relayKey = service.createKey("relay-org", true);
    String plainId = UUID.randomUUID().toString();
    String relayId = UUID.randomUUID().toString();
    String badIpId = UUID.randomUUID().toString();
    for (String[] call :
        new String[][] {
          {key, plainId, "198.51.100.9"},
          {relayKey, relayId, "198.51.100.9"},
          {relayKey, badIpId, "nope"}
        }) {
      HttpResponse<String> res =
          service.send(
              HttpRequest.newBuilder(service.uri("/v1/track"))
                  .header("Content-Type", "application/json")
                  .header("User-Agent", "server-sdk/1.0")
                  // A client cannot plant the service's own record of the socket address.
                  .header("X-Trellis-Socket-Ip", "6.6.6.6")
                  .header(
                      "Authorization",
                      "Basic " + Base64.getEncoder().encodeToString(utf8(call[0] + ":")))
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"type\":\"track\",\"event\":\"x\",\"messageId\":\""
                              + call[1]
                              + "\",\"context\":{\"ip\":\""
                              + call[2]
                              + "\",\"userAgent\":\"Browser/2.0\"}}")));
      assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    }

    JsonNode plain = service.awaitEvent(plainId);
    assertThat(plain.path("ip").asText()).isEqualTo("127.0.0.1");
    assertThat(plain.path("user_agent").asText()).isEqualTo("server-sdk/1.0");
    assertThat(plain.path("headers").path("x-trellis-socket-ip").asText()).isEqualTo("6.6.6.6");

    JsonNode relayed = service.awaitEvent(relayId);
    assertThat(relayed.path("ip").asText()).isEqualTo("198.51.100.9");
    assertThat(relayed.path("user_agent").asText()).isEqualTo("Browser/2.0");
    assertThat(relayed.path("headers").path("x-trellis-socket-ip").asText()).isEqualTo("127.0.0.1");
    assertThat(relayed.path("headers").path("user-agent").asText()).isEqualTo("server-sdk/1.0");
    assertThat(relayed.path("body").asText()).contains("198.51.100.9");

    JsonNode badIp = service.awaitEvent(badIpId);
    assertThat(badIp.path("ip").asText()).isEqualTo("127.0.0.1");
    assertThat(badIp.path("user_agent").asText()).isEqualTo("Browser/2.0");
  }

  @Test
  void postHogTokenOtherThanTheApiKeyIsRefused() {
    String other = service.createKey("globex");
    String single =
        "{\"api_key\":\""
            + key
            + "\",\"event\":\"x\",\"properties\":{\"token\":\""
            + other
            + "\"}}";
    String batch =
        "{\"api_key\":\""
            + key
            + "\",\"batch\":[{\"event\":\"x\",\"properties\":{\"token\":\""
            + other
            + "\"}}]}";

    for (String[] call : new String[][] {{"/capture/", single}, {"/batch/", batch}}) {
      HttpResponse<String> res = post(call[0], "application/json", utf8(call[1]));
      assertThat(res.statusCode()).as(call[0]).isEqualTo(400);
      assertThat(res.body()).contains("conflicting_api_keys").doesNotContain(key, other);
    }
  }

  @Test
  void postHogBatchMayCarryItsTokenOnlyAtTheTopOrOnlyInItsEvents() {
    String[] ids = new String[4];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = UUID.randomUUID().toString();
    }
    String inProperties =
        "{\"event\":\"a\",\"uuid\":\"" + ids[0] + "\",\"properties\":{\"token\":\"" + key + "\"}}";
    String atTop =
        "{\"event\":\"b\",\"uuid\":\"" + ids[1] + "\",\"token\":\"" + key + "\",\"properties\":{}}";
    String[] accepted = {
      "[" + inProperties + "," + atTop + "]",
      "{\"batch\":[{\"event\":\"c\",\"uuid\":\""
          + ids[2]
          + "\",\"properties\":{\"token\":\""
          + key
          + "\"}}],\"sent_at\":\"2026-12-04T10:00:00.000Z\"}",
      "{\"api_key\":\""
          + key
          + "\",\"batch\":[{\"event\":\"d\",\"uuid\":\""
          + ids[3]
          + "\",\"properties\":{}}]}"
    };
    for (String body : accepted) {
      HttpResponse<String> res = post("/e/", "text/plain", utf8(body));
      assertThat(res.statusCode()).as(body + " " + res.body()).isEqualTo(200);
    }
    for (String id : ids) {
      JsonNode e = service.awaitEvent(id);
      assertThat(e.path("organization_id").asText()).isEqualTo("acme");
      assertThat(e.path("body").asText()).doesNotContain(key);
    }
    assertThat(service.awaitEvent(ids[2]).path("query_params").path("sent_at").asText())
        .isEqualTo("2026-12-04T10:00:00.000Z");

    String other = service.createKey("globex");
    String twoTokens =
        "[" + inProperties + ",{\"event\":\"x\",\"properties\":{\"token\":\"" + other + "\"}}]";
    HttpResponse<String> conflict = post("/e/", "text/plain", utf8(twoTokens));
    assertThat(conflict.statusCode()).isEqualTo(400);
    assertThat(conflict.body()).contains("conflicting_api_keys").doesNotContain(key, other);
    HttpResponse<String> none = post("/e/", "text/plain", utf8("[{\"event\":\"x\"}]"));
    assertThat(none.statusCode()).isEqualTo(401);
  }

  @Test
  void aBatchEnvelopesOtherFieldsAreStoredWithEachOfItsEvents() {
    String first = UUID.randomUUID().toString();
    String second = UUID.randomUUID().toString();
    String item = "{\"type\":\"track\",\"event\":\"x\",\"messageId\":\"" + first + "\"}";
    HttpResponse<String> res =
        service.send(
            HttpRequest.newBuilder(service.uri("/v1/batch"))
                .header("Content-Type", "application/json")
                .header(
                    "Authorization", "Basic " + Base64.getEncoder().encodeToString(utf8(key + ":")))
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"writeKey\":\""
                            + key
                            + "\",\"context\":{\"library\":{\"name\":\"lib\"}},\"batch\":["
                            + item
                            + ",{\"type\":\"page\",\"messageId\":\""
                            + second
                            + "\"}],\"sentAt\":\"2026-12-04T10:00:00.000Z\"}")));

    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    for (String id : new String[] {first, second}) {
      JsonNode params = service.awaitEvent(id).path("query_params");
      assertThat(params.path("sentAt").asText()).isEqualTo("2026-12-04T10:00:00.000Z");
      assertThat(params.path("context").asText()).isEqualTo("{\"library\":{\"name\":\"lib\"}}");
      assertThat(params.has("writeKey")).isFalse();
      assertThat(params.toString()).doesNotContain(key);
    }
    // Each event's body is still its item, exactly as sent.
    assertThat(service.awaitEvent(first).path("body").asText()).isEqualTo(item);
  }

  @Test
  void postHogBase64FormBatchIsStoredDecoded() {
    String id = UUID.randomUUID().toString();
    String batch =
        "[{\"event\":\"clicked\",\"uuid\":\""
            + id
            + "\",\"properties\":{\"token\":\""
            + key
            + "\",\"$session_id\":\"s-b64\"}}]";
    String envelope = "{\"api_key\":\"" + key + "\",\"batch\":" + batch + "}";
    String form =
        "data="
            + URLEncoder.encode(
                Base64.getEncoder().encodeToString(utf8(envelope)), StandardCharsets.UTF_8);
    HttpResponse<String> res =
        post("/e/?compression=base64", "application/x-www-form-urlencoded", utf8(form));

    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    JsonNode e = service.awaitEvent(id);
    assertThat(e.path("event_type").asText()).isEqualTo("clicked");
    assertThat(e.path("session_id").asText()).isEqualTo("s-b64");
    assertThat(e.path("body").asText()).startsWith("{\"event\":\"clicked\"");
  }

  @Test
  void postHogGzipJsBodyWithoutContentEncodingIsInflated() throws IOException {
    String id = UUID.randomUUID().toString();
    String envelope =
        "{\"api_key\":\""
            + key
            + "\",\"batch\":[{\"event\":\"gz\",\"uuid\":\""
            + id
            + "\",\"properties\":{}}]}";
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
      gz.write(utf8(envelope));
    }
    HttpResponse<String> res =
        post("/batch/?compression=gzip-js", "text/plain", bytes.toByteArray());

    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    assertThat(service.awaitEvent(id).path("event_type").asText()).isEqualTo("gz");
  }

  @Test
  void postHogFlagsAndConfigSayNothingIsOn() {
    HttpResponse<String> flags = post("/decide/?v=3", "application/json", utf8("{\"token\":1}"));
    assertThat(flags.statusCode()).isEqualTo(200);
    JsonNode f = RunningService.json(flags.body());
    assertThat(f.path("featureFlags").size()).isZero();
    assertThat(f.path("sessionRecording").asBoolean(true)).isFalse();

    HttpResponse<String> script = service.get("/array/phc_abc-1/config.js");
    assertThat(script.statusCode()).isEqualTo(200);
    assertThat(script.headers().firstValue("content-type")).hasValue("text/javascript");
    assertThat(script.body()).contains("_POSTHOG_REMOTE_CONFIG[\"phc_abc-1\"]");
    // Nothing but key characters ever reaches the script.
    assertThat(service.get("/array/%22%3Balert(1)%2F%2F/config.js").statusCode()).isEqualTo(404);

    HttpResponse<String> rudder = service.get("/sourceConfig/?writeKey=x");
    assertThat(RunningService.json(rudder.body()).path("source").path("enabled").asBoolean())
        .isTrue();
  }

  @Test
  void segmentSettingsPointAnalyticsJsBackAtTheServiceForAKnownKeyOnly() {
    HttpResponse<String> res = service.get("/v1/projects/" + key + "/settings");
    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    JsonNode settings = RunningService.json(res.body());
    JsonNode segmentIo = settings.path("integrations").path("Segment.io");
    assertThat(settings.path("integrations").size()).isEqualTo(1);
    assertThat(segmentIo.path("apiKey").asText()).isEqualTo(key);
    assertThat(segmentIo.path("apiHost").asText()).isEqualTo("127.0.0.1:" + service.port() + "/v1");
    assertThat(segmentIo.path("protocol").asText()).isEqualTo("http");
    // analytics.js reports its own metrics to Segment's API unless the sample rate is 0.
    assertThat(settings.path("metrics").path("sampleRate").asInt(1)).isZero();
    assertThat(settings.path("remotePlugins")).isEmpty();

    HttpResponse<String> proxied =
        service.send(
            HttpRequest.newBuilder(service.uri("/v1/projects/" + key + "/settings"))
                .header("X-Forwarded-Proto", "https")
                .GET());
    assertThat(
            RunningService.json(proxied.body())
                .path("integrations")
                .path("Segment.io")
                .path("protocol")
                .asText())
        .isEqualTo("https");

    // A body, which the settings call has no use for, is held to the usual limit.
    HttpResponse<String> withBody =
        service.send(
            HttpRequest.newBuilder(service.uri("/v1/projects/" + key + "/settings"))
                .method("GET", HttpRequest.BodyPublishers.ofByteArray(new byte[2 * 1024 * 1024])));
    assertThat(withBody.statusCode()).isEqualTo(413);
    assertThat(withBody.body()).contains("payload_too_large");

    HttpResponse<String> unknown = service.get("/v1/projects/trk_nope_nope/settings");
    assertThat(unknown.statusCode()).isEqualTo(401);
    assertThat(unknown.body()).contains("unauthorized").doesNotContain("trk_nope_nope");
    HttpResponse<String> odd = service.get("/v1/projects/%3Cscript%3E/settings");
    assertThat(odd.statusCode()).isEqualTo(404);
    assertThat(odd.body()).doesNotContain("script");
  }

  @Test
  void segmentSettingsNameTheHostATrustedProxyNamesAndNoOtherPeers(@TempDir Path other) {
    String settings = "/v1/projects/" + key + "/settings";
    HttpResponse<String> untrusted =
        service.send(
            HttpRequest.newBuilder(service.uri(settings))
                .header("X-Forwarded-Host", "elsewhere.example")
                .header("X-Forwarded-Port", "8443")
                .header("X-Forwarded-Prefix", "/elsewhere")
                .GET());
    assertThat(apiHost(untrusted)).isEqualTo("127.0.0.1:" + service.port() + "/v1");

    try (RunningService proxied =
        RunningService.start(other, Map.of("capture.trusted-proxies", "127.0.0.0/8"))) {
      String k = proxied.createKey("acme");
      String path = "/v1/projects/" + k + "/settings";
      HttpResponse<String> forwarded =
          proxied.send(
              HttpRequest.newBuilder(proxied.uri(path))
                  .header("X-Forwarded-Host", "collect.shop.example")
                  .header("X-Forwarded-Proto", "https")
                  .GET());
      assertThat(apiHost(forwarded)).isEqualTo("collect.shop.example/v1");
      HttpResponse<String> rfc7239 =
          proxied.send(
              HttpRequest.newBuilder(proxied.uri(path))
                  .header("Forwarded", "for=192.0.2.1;host=collect.shop.example:8443")
                  .GET());
      assertThat(apiHost(rfc7239)).isEqualTo("collect.shop.example:8443/v1");
      HttpResponse<String> underAPath =
          proxied.send(
              HttpRequest.newBuilder(proxied.uri(path))
                  .header("X-Forwarded-Host", "shop.example")
                  .header("X-Forwarded-Port", "8443")
                  .header("X-Forwarded-Prefix", "/collect/")
                  .GET());
      assertThat(apiHost(underAPath)).isEqualTo("shop.example:8443/collect/v1");
      HttpResponse<String> plain = proxied.get(path);
      assertThat(apiHost(plain)).isEqualTo("127.0.0.1:" + proxied.port() + "/v1");
    }
  }

  private static String apiHost(HttpResponse<String> res) {
    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    return RunningService.json(res.body())
        .path("integrations")
        .path("Segment.io")
        .path("apiHost")
        .asText();
  }

  @Test
  void snowplowPixelWithTheKeyInThePathStoresTheSelfDescribingEvent() {
    String id = UUID.randomUUID().toString();
    String ue =
        "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0\","
            + "\"data\":{\"schema\":\"iglu:com.acme/signup/jsonschema/1-0-0\",\"data\":{}}}";
    String px = Base64.getUrlEncoder().withoutPadding().encodeToString(utf8(ue));
    HttpResponse<byte[]> res =
        service.sendForBytes(
            HttpRequest.newBuilder(
                    service.uri(
                        "/snowplow/"
                            + key
                            + "/i?e=ue&ue_px="
                            + px
                            + "&eid="
                            + id
                            + "&sid=s-sp&url="
                            + URLEncoder.encode(
                                "https://shop.example/?dclid=DC1", StandardCharsets.UTF_8)))
                .GET());

    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.headers().firstValue("content-type")).hasValue("image/gif");
    JsonNode e = service.awaitEvent(id);
    assertThat(e.path("event_type").asText()).isEqualTo("signup");
    assertThat(e.path("click_id").asText()).isEqualTo("DC1");
    assertThat(e.path("session_id").asText()).isEqualTo("s-sp");
    assertThat(e.path("url").asText()).contains("/snowplow/[redacted]/i?").doesNotContain(key);
  }

  @Test
  void snowplowPathKeyAndADifferentHeaderKeyAreRefused() {
    String other = service.createKey("globex");
    HttpResponse<String> res =
        service.send(
            HttpRequest.newBuilder(
                    service.uri("/snowplow/" + key + "/com.snowplowanalytics.snowplow/tp2"))
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + other)
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"schema\":\"x\",\"data\":[{\"e\":\"pv\"}]}")));

    assertThat(res.statusCode()).isEqualTo(400);
    assertThat(res.body()).contains("conflicting_api_keys");
    assertThat(service.get("/snowplow/trk_nope_nope/i?e=pv").statusCode()).isEqualTo(401);
    HttpResponse<String> unknown = service.get("/snowplow/" + key + "/elsewhere");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.body()).doesNotContain(key);
  }
}
