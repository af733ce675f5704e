package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.capture.EventCapture;
import io.trellis.ingress.testing.RunningService;
import java.io.ByteArrayOutputStream;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Beacons, forms, compressed bodies and keys in the body, as browsers and tag managers send. */
class BodyFormatsIT {
  @TempDir static Path dir;
  static RunningService service;
  static String key;

  @BeforeAll
  static void start() {
    service = RunningService.start(dir, Map.of("limits.body-max", "64KiB"));
    key = service.createKey("acme");
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  static HttpResponse<String> post(String path, String contentType, byte[] body, String... hdrs) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(service.uri(path))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    for (int i = 0; i < hdrs.length; i += 2) {
      b.header(hdrs[i], hdrs[i + 1]);
    }
    return service.send(b);
  }

  static HttpResponse<String> post(String path, String contentType, String body, String... hdrs) {
    return post(path, contentType, body.getBytes(StandardCharsets.UTF_8), hdrs);
  }

  static JsonNode stored(HttpResponse<String> res) {
    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    return service.awaitEvent(RunningService.json(res.body()).path("event_id").asText());
  }

  static String form(String... kv) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < kv.length; i += 2) {
      if (sb.length() > 0) {
        sb.append('&');
      }
      sb.append(URLEncoder.encode(kv[i], StandardCharsets.UTF_8))
          .append('=')
          .append(URLEncoder.encode(kv[i + 1], StandardCharsets.UTF_8));
    }
    return sb.toString();
  }

  static byte[] gzip(byte[] data) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream z = new GZIPOutputStream(out)) {
      z.write(data);
    }
    return out.toByteArray();
  }

  static byte[] deflate(byte[] data, boolean raw) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (DeflaterOutputStream z = new DeflaterOutputStream(out, new Deflater(6, raw))) {
      z.write(data);
    }
    return out.toByteArray();
  }

  @Test
  void beaconTextPlainBodyIsCapturedLikeJson() {
    String json = "{\"event\":\"beacon_view\",\"utm_source\":\"news\"}";
    JsonNode e = stored(post("/events?api_key=" + key, "text/plain;charset=UTF-8", json));

    assertThat(e.path("event_type").asText()).isEqualTo("beacon_view");
    assertThat(e.path("source").asText()).isEqualTo("news");
    assertThat(e.path("body").asText()).isEqualTo(json);
  }

  @Test
  void formWithPlainJsonDataFieldIsCapturedLikeJson() {
    String json = "{\"event\":\"form_signup\",\"gclid\":\"G-1\"}";
    JsonNode e =
        stored(
            post(
                "/events",
                "application/x-www-form-urlencoded",
                form("data", json, "api_key", key, "page", "/landing")));

    assertThat(e.path("event_type").asText()).isEqualTo("form_signup");
    assertThat(e.path("click_id").asText()).isEqualTo("G-1");
    assertThat(e.path("body").asText()).isEqualTo(json);
    assertThat(e.path("query_params").path("page").asText()).isEqualTo("/landing");
    assertThat(e.path("query_params").has("api_key")).isFalse();
    assertThat(e.toString()).doesNotContain(key);
  }

  @Test
  void formWithBase64DataFieldIsDecoded() {
    String json = "{\"event\":\"b64_event\",\"n\":1}";
    for (Base64.Encoder enc :
        new Base64.Encoder[] {Base64.getEncoder(), Base64.getUrlEncoder().withoutPadding()}) {
      String data = enc.encodeToString(json.getBytes(StandardCharsets.UTF_8));
      JsonNode e =
          stored(
              post(
                  "/events?api_key=" + key,
                  "application/x-www-form-urlencoded",
                  form("data", data)));

      assertThat(e.path("event_type").asText()).isEqualTo("b64_event");
      assertThat(e.path("body").asText()).isEqualTo(json);
    }
  }

  @Test
  void formWithoutDataFieldIsCapturedLikeTheSameFieldsInAQuery() {
    JsonNode e =
        stored(
            post(
                "/events",
                "application/x-www-form-urlencoded",
                form("event", "newsletter", "utm_campaign", "spring", "writeKey", key)));

    assertThat(e.path("event_type").asText()).isEqualTo("newsletter");
    assertThat(e.path("campaign").asText()).isEqualTo("spring");
    assertThat(e.path("query_params").has("writeKey")).isFalse();
    assertThat(e.toString()).doesNotContain(key);
  }

  @Test
  void formBatchSplitsItsDataArray() {
    HttpResponse<String> res =
        post(
            "/batch",
            "application/x-www-form-urlencoded",
            form("data", "[{\"event\":\"fa\"},{\"event\":\"fb\"}]", "api_key", key));

    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    JsonNode body = RunningService.json(res.body());
    assertThat(body.path("accepted").asInt()).isEqualTo(2);
    assertThat(
            service.awaitEvent(body.path("event_ids").get(1).asText()).path("event_type").asText())
        .isEqualTo("fb");
  }

  /** What {@code curl -d '{...}'} sends: JSON with curl's default form content type. */
  @Test
  void jsonSentWithTheFormTypeIsJsonWithoutFormFields() {
    String json = "{\"event\":\"sale\",\"discount\":\"10%\",\"page\":\"/a?x=1&y=2+3\"}";
    JsonNode e =
        stored(
            post(
                "/events?utm_source=mail",
                "application/x-www-form-urlencoded",
                json,
                "Authorization",
                "Bearer " + key));

    assertThat(e.path("event_type").asText()).isEqualTo("sale");
    assertThat(e.path("body").asText()).isEqualTo(json);
    assertThat(RunningService.json(e.path("query_params").toString()))
        .isEqualTo(RunningService.json("{\"utm_source\":\"mail\"}"));
  }

  @Test
  void jsonBatchSentWithTheFormTypeIsSplitWithoutFormFields() {
    HttpResponse<String> res =
        post(
            "/batch",
            "application/x-www-form-urlencoded",
            "  [{\"event\":\"view\",\"page\":\"/a\"}, 42, {\"event\":\"click\"}]",
            "Authorization",
            "Bearer " + key);

    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    JsonNode body = RunningService.json(res.body());
    assertThat(body.path("accepted").asInt()).isEqualTo(2);
    assertThat(body.path("rejected").asInt()).isEqualTo(1);
    for (JsonNode id : body.path("event_ids")) {
      JsonNode e = service.awaitEvent(id.asText());
      assertThat(e.path("query_params").size()).as(e.toString()).isZero();
    }
  }

  @Test
  void pixelPostAcceptsAFormAndAnswersTheGif() {
    HttpResponse<String> res =
        post(
            "/pixel",
            "application/x-www-form-urlencoded",
            form("data", "{\"event\":\"pixel_form\"}", "api_key", key));

    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.headers().firstValue("content-type")).hasValue("image/gif");
    service.awaitStored(
        es -> es.stream().anyMatch(e -> e.path("event_type").asText().equals("pixel_form")));
  }

  @Test
  void keyInTheJsonBodyAuthenticatesAndIsRedactedFromTheStoredBody() {
    JsonNode a =
        stored(post("/events", "text/plain", "{\"event\":\"k1\",\"api_key\":\"" + key + "\"}"));
    JsonNode b =
        stored(
            post("/events", "application/json", "{\"writeKey\":\"" + key + "\",\"event\":\"k2\"}"));

    assertThat(a.path("organization_id").asText()).isEqualTo("acme");
    assertThat(a.path("body").asText())
        .isEqualTo("{\"event\":\"k1\",\"api_key\":\"" + EventCapture.REDACTED + "\"}");
    assertThat(b.path("event_type").asText()).isEqualTo("k2");
    assertThat(b.toString()).doesNotContain(key);
  }

  @Test
  void twoDifferentKeysInOneRequestAre400AndNothingIsStored() {
    String other = service.createKey("globex");
    HttpResponse<String> res =
        post(
            "/events",
            "application/json",
            "{\"event\":\"ambiguous\",\"api_key\":\"" + other + "\"}",
            "Authorization",
            "Bearer " + key);

    assertThat(res.statusCode()).isEqualTo(400);
    assertThat(RunningService.json(res.body()).path("error").asText())
        .isEqualTo("conflicting_api_keys");
    stored(post("/events?api_key=" + key, "application/json", "{\"event\":\"after_ambiguous\"}"));
    assertThat(service.storedEvents())
        .noneMatch(e -> e.path("event_type").asText().equals("ambiguous"));
  }

  @Test
  void gzipBodyIsInflated() throws Exception {
    String json = "{\"event\":\"gzipped\",\"pad\":\"" + "x".repeat(2000) + "\"}";
    JsonNode e =
        stored(
            post(
                "/events?api_key=" + key,
                "application/json",
                gzip(json.getBytes(StandardCharsets.UTF_8)),
                "Content-Encoding",
                "gzip"));

    assertThat(e.path("event_type").asText()).isEqualTo("gzipped");
    assertThat(e.path("body").asText()).isEqualTo(json);
  }

  @Test
  void deflateBodyIsInflatedInZlibAndRawForm() throws Exception {
    for (boolean raw : new boolean[] {false, true}) {
      String json = "{\"event\":\"deflated\",\"raw\":" + raw + "}";
      JsonNode e =
          stored(
              post(
                  "/events?api_key=" + key,
                  "application/json",
                  deflate(json.getBytes(StandardCharsets.UTF_8), raw),
                  "Content-Encoding",
                  "deflate"));

      assertThat(e.path("body").asText()).isEqualTo(json);
    }
  }

  @Test
  void gzipBatchIsInflatedAndSplit() throws Exception {
    String json = "[{\"event\":\"gz1\"},{\"event\":\"gz2\"}]";
    HttpResponse<String> res =
        post(
            "/batch?api_key=" + key,
            "application/json",
            gzip(json.getBytes(StandardCharsets.UTF_8)),
            "Content-Encoding",
            "gzip");

    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    assertThat(RunningService.json(res.body()).path("accepted").asInt()).isEqualTo(2);
  }

  @Test
  void unknownContentEncodingIs415() {
    HttpResponse<String> res =
        post("/events?api_key=" + key, "application/json", "{}", "Content-Encoding", "br");

    assertThat(res.statusCode()).isEqualTo(415);
    assertThat(RunningService.json(res.body()).path("error").asText())
        .isEqualTo("unsupported_encoding");
  }

  @Test
  void corruptGzipIs400() {
    HttpResponse<String> res =
        post(
            "/events?api_key=" + key,
            "application/json",
            new byte[] {0x1f, (byte) 0x8b, 8, 0, 1, 2, 3},
            "Content-Encoding",
            "gzip");

    assertThat(res.statusCode()).isEqualTo(400);
    assertThat(RunningService.json(res.body()).path("error").asText())
        .isEqualTo("invalid_compressed_body");
  }

  @Test
  void declaredCharsetIsTranscodedToUtf8() {
    byte[] latin1 = "{\"event\":\"caf\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1);
    JsonNode e =
        stored(post("/events?api_key=" + key, "application/json; charset=ISO-8859-1", latin1));

    assertThat(e.path("event_type").asText()).isEqualTo("caf\u00e9");
  }

  @Test
  void unknownCharsetIs415() {
    HttpResponse<String> res =
        post("/events?api_key=" + key, "application/json; charset=klingon-8", "{}");

    assertThat(res.statusCode()).isEqualTo(415);
    assertThat(RunningService.json(res.body()).path("error").asText())
        .isEqualTo("unsupported_charset");
  }
}
