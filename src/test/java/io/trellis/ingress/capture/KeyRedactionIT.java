package io.trellis.ingress.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.testing.RunningService;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keys inside batch items are checked like any second key, and the request's own key is redacted in
 * every encoding the service itself decodes, through the real service over HTTP.
 */
class KeyRedactionIT {
  @TempDir static Path dir;
  static RunningService service;
  static String keyA;
  static String keyB;

  @BeforeAll
  static void start() {
    service = RunningService.start(dir);
    keyA = service.createKey("org-a");
    keyB = service.createKey("org-b");
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  /** The random part of a key: no encoding the service decodes changes it. */
  private static String secret(String key) {
    return key.substring(key.lastIndexOf('_') + 1);
  }

  private static String basic(String key) {
    return Base64.getEncoder().encodeToString((key + ":").getBytes(StandardCharsets.UTF_8));
  }

  /** {@code trk_id_secret} with every underscore as the given escape. */
  private static String escapedUnderscores(String key, String escape) {
    return key.replace("_", escape);
  }

  private static HttpResponse<String> post(String path, String contentType, String body) {
    return service.send(
        HttpRequest.newBuilder(service.uri(path))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofString(body)));
  }

  private static void assertNothingOf(String key, List<JsonNode> events) {
    String base64Head = basic(key).substring(0, 40);
    for (JsonNode e : events) {
      assertThat(e.toString())
          .as("stored event")
          .doesNotContain(secret(key))
          .doesNotContain(base64Head);
    }
  }

  private static List<JsonNode> storedIn(String org) {
    return service.storedEvents().stream()
        .filter(e -> e.path("organization_id").asText().equals(org))
        .toList();
  }

  @Test
  void segmentBatchWithAnotherOrganizationsKeyInAMessageIsRefused() {
    String body =
        "{\"writeKey\":\""
            + keyB
            + "\",\"batch\":[{\"type\":\"track\",\"event\":\"ok\"},"
            + "{\"type\":\"track\",\"event\":\"smuggled\",\"writeKey\":\""
            + keyA
            + "\"}]}";

    HttpResponse<String> res = post("/v1/batch", "application/json", body);

    assertThat(res.statusCode()).as(res.body()).isEqualTo(400);
    assertThat(RunningService.json(res.body()).path("error").asText())
        .isEqualTo("conflicting_api_keys");
  }

  @Test
  void batchWithAnItemLevelApiKeyOfAnotherOrganizationIsRefused() {
    HttpResponse<String> res =
        service.send(
            HttpRequest.newBuilder(service.uri("/batch"))
                .header("Authorization", "Bearer " + keyB)
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "[{\"event\":\"a\"},{\"event\":\"b\",\"api_key\":\"" + keyA + "\"}]")));

    assertThat(res.statusCode()).as(res.body()).isEqualTo(400);
    assertThat(RunningService.json(res.body()).path("error").asText())
        .isEqualTo("conflicting_api_keys");
  }

  @Test
  void itemsCarryingTheRequestsOwnKeyAreStoredWithTheKeyRedacted() {
    // analytics.js in batching mode puts the write key at the top and in every message.
    String body =
        "{\"writeKey\":\""
            + keyB
            + "\",\"batch\":[{\"type\":\"track\",\"event\":\"own-key-1\",\"writeKey\":\""
            + keyB
            + "\"},{\"type\":\"track\",\"event\":\"own-key-2\",\"writeKey\":\""
            + escapedUnderscores(keyB, "\\u005f")
            + "\"}]}";

    HttpResponse<String> res = post("/v1/b", "text/plain", body);

    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    List<JsonNode> events =
        service.awaitStored(
            es ->
                es.stream().filter(e -> e.path("event_type").asText().startsWith("own-key")).count()
                    == 2);
    List<JsonNode> own =
        events.stream().filter(e -> e.path("event_type").asText().startsWith("own-key")).toList();
    assertThat(own)
        .allSatisfy(
            e -> assertThat(e.path("body").asText()).contains("\"writeKey\":\"[redacted]\""));
    assertNothingOf(keyB, own);
  }

  @Test
  void aJsonEscapedKeyAuthenticatesAndIsRedacted() {
    String escaped = escapedUnderscores(keyA, "\\u005f");

    HttpResponse<String> res =
        post(
            "/events",
            "application/json",
            "{\"event\":\"escaped\",\"writeKey\":\""
                + escaped
                + "\",\"note\":\""
                + escaped
                + "\"}");

    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    JsonNode e = service.awaitEvent(RunningService.json(res.body()).path("event_id").asText());
    assertThat(e.path("body").asText())
        .isEqualTo("{\"event\":\"escaped\",\"writeKey\":\"[redacted]\",\"note\":\"[redacted]\"}");
    assertNothingOf(keyA, List.of(e));
  }

  @Test
  void percentEncodedCopiesInOtherParametersAndTheRefererAreRedacted() {
    String encoded = escapedUnderscores(keyA, "%5F");
    String lower = escapedUnderscores(keyA, "%5f");

    HttpResponse<String> res =
        service.send(
            HttpRequest.newBuilder(
                    service.uri("/track?event=pct&api_key=" + keyA + "&foo=" + encoded + "&x=1"))
                .header("Referer", "https://shop.example/landing?k=" + lower + "&utm_source=ad")
                .header("X-Forwarded-Authorization", "Basic " + basic(keyA))
                .header("Cookie", "tk=" + encoded + "; _ga=GA1.2.3")
                .GET());

    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    JsonNode e = service.awaitEvent(RunningService.json(res.body()).path("event_id").asText());
    assertThat(e.path("query_params").path("foo").asText()).isEqualTo("[redacted]");
    assertThat(e.path("query_params").path("x").asText()).isEqualTo("1");
    assertThat(e.path("url").asText()).endsWith("/track?event=pct&foo=[redacted]&x=1");
    assertThat(e.path("referer").asText())
        .isEqualTo("https://shop.example/landing?k=[redacted]&utm_source=ad");
    assertThat(e.path("headers").path("referer").asText()).isEqualTo(e.path("referer").asText());
    assertThat(e.path("headers").path("x-forwarded-authorization").asText())
        .isEqualTo("Basic [redacted]");
    assertThat(e.path("headers").path("cookie").asText()).isEqualTo("tk=[redacted]; _ga=GA1.2.3");
    assertNothingOf(keyA, List.of(e));
  }

  @Test
  void aFormBodyStoredAsItCameHasItsEncodedKeyRedacted() {
    HttpResponse<String> res =
        post(
            "/events",
            "application/x-www-form-urlencoded",
            "event=form&api_key=" + escapedUnderscores(keyA, "%5F") + "&name=a+b");

    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    JsonNode e = service.awaitEvent(RunningService.json(res.body()).path("event_id").asText());
    assertThat(e.path("body").asText()).isEqualTo("event=form&api_key=[redacted]&name=a+b");
    assertThat(e.path("query_params").has("api_key")).isFalse();
    assertThat(e.path("query_params").path("name").asText()).isEqualTo("a b");
    assertNothingOf(keyA, List.of(e));
  }

  @Test
  void nothingOfEitherKeyReachedAnotherOrganizationsData() {
    segmentBatchWithAnotherOrganizationsKeyInAMessageIsRefused();
    batchWithAnItemLevelApiKeyOfAnotherOrganizationIsRefused();

    assertNothingOf(keyA, storedIn("org-b"));
    assertThat(storedIn("org-b"))
        .noneSatisfy(e -> assertThat(e.path("event_type").asText()).isEqualTo("smuggled"));
  }
}
